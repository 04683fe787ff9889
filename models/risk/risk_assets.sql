-- depends: int_asset_features
-- A quantum-risk score per asset (0..100) with the reasons that make it up; weights in models/README.md.
WITH r AS (
  SELECT f.*,
    list_filter([
      CASE WHEN f.kex_status = 'classical' THEN {'w': 40, 'r': 'key exchange is classical only (' || array_to_string(f.kex_vuln, ', ')
        || '): broken by Shor''s algorithm, traffic recorded today can be decrypted later; NIST IR 8547 disallows it after 2035'} END,
      CASE WHEN f.kex_status = 'mixed' THEN {'w': 20, 'r': printf('%.0f%% of handshakes still use a classical key exchange (%s)',
        100.0 * (f.known_handshakes - f.pq_handshakes) / f.known_handshakes, array_to_string(f.kex_vuln, ', '))} END,
      CASE WHEN len(f.auth_vuln) > 0 THEN {'w': 15, 'r': 'authentication uses quantum-vulnerable ' || array_to_string(f.auth_vuln, ', ')
        || coalesce('; disallowed after ' || f.disallowed_after, '')} END,
      CASE WHEN f.min_bits < 112 THEN {'w': 30, 'r': 'classical strength ' || f.min_bits || ' bits is below 112 (already disallowed by NIST SP 800-131A)'} END,
      CASE WHEN f.min_bits >= 112 AND f.min_bits < 128 THEN {'w': 10, 'r': 'classical strength ' || f.min_bits || ' bits: deprecated after 2030, disallowed after 2035 (NIST IR 8547)'} END,
      CASE WHEN len(f.legacy_versions) > 0 THEN {'w': 20, 'r': 'protocol older than TLS 1.2: ' || array_to_string(f.legacy_versions, ', ')} END,
      CASE WHEN len(f.no_fs) > 0 THEN {'w': 20, 'r': 'no forward secrecy: ' || array_to_string(f.no_fs, ', ')} END,
      CASE WHEN f.cert_expired THEN {'w': 10, 'r': 'certificate expired ' || (-f.cert_days_to_expiry) || ' days ago'}
           WHEN f.cert_days_to_expiry <= getvariable('cert_expiry_days') THEN {'w': 10, 'r': 'certificate expires in ' || f.cert_days_to_expiry || ' days'} END
    ], x -> x IS NOT NULL) AS rs
  FROM int_asset_features f
)
SELECT asset_type, asset_id, label, host,
  least(100, coalesce(list_sum(list_transform(rs, x -> x.w)), 0))::INTEGER AS score,
  CASE WHEN least(100, coalesce(list_sum(list_transform(rs, x -> x.w)), 0)) >= 75 THEN 'critical'
       WHEN least(100, coalesce(list_sum(list_transform(rs, x -> x.w)), 0)) >= 50 THEN 'high'
       WHEN least(100, coalesce(list_sum(list_transform(rs, x -> x.w)), 0)) >= 25 THEN 'medium'
       WHEN least(100, coalesce(list_sum(list_transform(rs, x -> x.w)), 0)) > 0 THEN 'low' ELSE 'none' END AS level,
  kex_status,
  len(kex_vuln) + len(auth_vuln) > 0 AS quantum_vulnerable,
  list_concat(kex_vuln, auth_vuln) AS vulnerable_algorithms,
  min_bits AS min_classical_bits,
  deprecated_after, disallowed_after,
  list_transform(rs, x -> x.r) AS reasons,
  handshakes, last_seen
FROM r
