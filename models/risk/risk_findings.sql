-- depends: int_asset_features, inv_certificates, policy_rules
-- Policy findings: one row per (rule, asset). Thresholds and severities come from the policy (models/policy.json,
-- `--policy FILE`); a rule switched off there produces no rows.
WITH f AS (
  SELECT 'tls_legacy_version' AS rule, asset_type, asset_id, label, host,
    'negotiates a protocol older than TLS 1.2' AS message, array_to_string(legacy_versions, ', ') AS observed, 'TLS 1.2' AS threshold,
    legacy_handshakes AS occurrences, first_seen, last_seen
  FROM int_asset_features WHERE asset_type IN ('tls_endpoint', 'tls_client') AND len(legacy_versions) > 0
  UNION ALL
  SELECT 'tls_version_below_1_3', asset_type, asset_id, label, host,
    'negotiates TLS 1.2, not TLS 1.3', array_to_string(tls12_versions, ', '), 'TLS 1.3', below13_handshakes, first_seen, last_seen
  FROM int_asset_features WHERE asset_type IN ('tls_endpoint', 'tls_client') AND len(legacy_versions) = 0 AND len(tls12_versions) > 0
  UNION ALL
  SELECT 'no_forward_secrecy', asset_type, asset_id, label, host,
    'key exchange without forward secrecy (static RSA/DH key transport)', array_to_string(no_fs, ', '), 'ephemeral (EC)DHE or KEM', no_fs_handshakes, first_seen, last_seen
  FROM int_asset_features WHERE len(no_fs) > 0
  UNION ALL
  SELECT 'no_pq_key_exchange', asset_type, asset_id, label, host,
    CASE WHEN asset_type = 'tls_client' AND offers_pq THEN 'offers a post-quantum/hybrid group but never gets one'
         WHEN asset_type = 'tls_client' THEN 'does not offer any post-quantum or hybrid group'
         ELSE 'never negotiated a post-quantum or hybrid key exchange' END,
    array_to_string(kex_vuln, ', '), 'X25519MLKEM768 or another PQ/hybrid group', known_handshakes - pq_handshakes, first_seen, last_seen
  FROM int_asset_features WHERE asset_type IN ('tls_endpoint', 'tls_client') AND known_handshakes > 0 AND pq_handshakes = 0
  UNION ALL
  SELECT 'ssh_no_pq_kex', asset_type, asset_id, label, host,
    CASE WHEN offers_pq THEN 'offers a post-quantum hybrid KEX but never negotiates one'
         ELSE 'does not offer a post-quantum hybrid KEX' END,
    array_to_string(kex_vuln, ', '), 'mlkem768x25519-sha256 or sntrup761x25519-sha512', known_handshakes - pq_handshakes, first_seen, last_seen
  FROM int_asset_features WHERE asset_type IN ('ssh_server', 'ssh_client') AND known_handshakes > 0 AND pq_handshakes = 0
  UNION ALL
  SELECT 'cert_expired', 'certificate', sha256, coalesce(subject, sha256), NULL,
    'certificate expired', CAST(not_after AS VARCHAR), CAST(getvariable('as_of') AS VARCHAR), times_seen, first_seen, last_seen
  FROM inv_certificates WHERE expired
  UNION ALL
  SELECT 'cert_expiring', 'certificate', sha256, coalesce(subject, sha256), NULL,
    'certificate expires in ' || days_to_expiry || ' days', CAST(not_after AS VARCHAR), getvariable('cert_expiry_days') || ' days', times_seen, first_seen, last_seen
  FROM inv_certificates WHERE NOT expired AND days_to_expiry <= getvariable('cert_expiry_days')
  UNION ALL
  SELECT 'rsa_key_too_small', 'certificate', sha256, coalesce(subject, sha256), NULL,
    'RSA key of ' || key_bits || ' bits', CAST(key_bits AS VARCHAR), CAST(getvariable('min_rsa_bits') AS VARCHAR), times_seen, first_seen, last_seen
  FROM inv_certificates WHERE key_family IN ('RSA', 'RSA-PSS') AND key_bits < getvariable('min_rsa_bits')
  UNION ALL
  SELECT 'sha1_signature', asset_type, asset_id, label, host,
    CASE WHEN asset_type = 'certificate' THEN 'certificate signed with SHA-1' ELSE 'handshake signatures use SHA-1' END,
    array_to_string(sha1_sigs, ', '), 'SHA-256 or stronger', CASE WHEN asset_type = 'certificate' THEN handshakes ELSE sha1_handshakes END, first_seen, last_seen
  FROM int_asset_features WHERE len(sha1_sigs) > 0
  UNION ALL
  SELECT 'weak_classical_strength', asset_type, asset_id, label, host,
    'uses algorithms below ' || getvariable('min_classical_bits') || '-bit classical strength', array_to_string(weak_algs, ', '),
    getvariable('min_classical_bits') || ' bits', handshakes, first_seen, last_seen
  FROM int_asset_features WHERE len(weak_algs) > 0
)
SELECT f.rule, p.severity, severity_rank(p.severity)::INTEGER AS severity_rank, f.asset_type, f.asset_id, f.label, f.host,
  f.message, f.observed, f.threshold, f.occurrences::BIGINT AS occurrences, f.first_seen, f.last_seen
FROM f JOIN policy_rules p ON p.rule = f.rule AND p.enabled
