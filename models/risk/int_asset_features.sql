-- depends: int_handshake_facts, int_handshake_offers, inv_tls_endpoints, inv_certificates
-- materialized: table
-- Per asset, the facts the risk score and the policy findings are made of. Handshake assets: the server
-- (TLS endpoint / SSH server) and, for client-side handshakes, the client process. Certificates are assets too.
WITH fl AS (
  -- labels first: a macro inside a struct literal does not bind
  SELECT *, process_label(host, container_id, exe, comm) AS process
  FROM int_handshake_facts
), a AS (
  SELECT f.*, x.asset_type, x.asset_id, x.label, x.asset_host
  FROM fl f, unnest([
    CASE WHEN f.proto = 'ssh' THEN
      {'asset_type': 'ssh_server', 'asset_id': concat_ws('|', coalesce(f.server_addr, ''), coalesce(CAST(f.server_port AS VARCHAR), '')), 'label': f.service, 'asset_host': NULL::VARCHAR}
    ELSE
      {'asset_type': 'tls_endpoint', 'asset_id': concat_ws('|', f.proto, coalesce(f.server_addr, ''), coalesce(CAST(f.server_port AS VARCHAR), ''), coalesce(f.sni, '')), 'label': f.service, 'asset_host': NULL::VARCHAR}
    END,
    CASE WHEN f.role = 'client' THEN
      {'asset_type': CASE WHEN f.proto = 'ssh' THEN 'ssh_client' ELSE 'tls_client' END,
       'asset_id': concat_ws('|', coalesce(f.host, ''), coalesce(f.container_id, ''), coalesce(f.exe, '')),
       'label': f.process, 'asset_host': f.host}
    END
  ]) AS t(x)
  WHERE x IS NOT NULL
), g AS (
  SELECT asset_type, asset_id,
    any_value(label) AS label, any_value(asset_host) AS host,
    any_value(proto) AS proto, any_value(server_addr) AS server_addr, any_value(server_port) AS server_port, any_value(sni) AS sni,
    sum(handshakes)::BIGINT AS handshakes, min(first_seen) AS first_seen, max(last_seen) AS last_seen,
    coalesce(sum(handshakes) FILTER (WHERE kex_class IN ('pq', 'hybrid')), 0)::BIGINT AS pq_handshakes,
    coalesce(sum(handshakes) FILTER (WHERE kex_class = 'pq'), 0)::BIGINT AS only_pq_handshakes,
    coalesce(sum(handshakes) FILTER (WHERE kex_class <> 'unknown'), 0)::BIGINT AS known_handshakes,
    dlist(CASE WHEN kex_quantum_status = 'shor-broken' THEN kex_name END) AS kex_vuln,
    dlist(CASE WHEN sig_quantum_status = 'shor-broken' THEN sig_name END) AS auth_vuln,
    least(min(kex_bits), min(cipher_bits), min(sig_bits)) AS min_bits,
    min(kex_deprecated_after) AS deprecated_after,
    least(min(kex_disallowed_after), min(cipher_disallowed_after), min(sig_disallowed_after)) AS disallowed_after,
    dlist(CASE WHEN version_rank < 12 THEN version_name END) AS legacy_versions,
    dlist(CASE WHEN version_rank = 12 THEN version_name END) AS tls12_versions,
    coalesce(sum(handshakes) FILTER (WHERE version_rank < 12), 0)::BIGINT AS legacy_handshakes,
    coalesce(sum(handshakes) FILTER (WHERE version_rank < 13), 0)::BIGINT AS below13_handshakes,
    dlist(CASE WHEN forward_secrecy = false THEN coalesce(suite_name, kex_name) END) AS no_fs,
    coalesce(sum(handshakes) FILTER (WHERE forward_secrecy = false), 0)::BIGINT AS no_fs_handshakes,
    dlist(CASE WHEN sig_sha1 THEN sig_name END) AS sha1_sigs,
    coalesce(sum(handshakes) FILTER (WHERE sig_sha1), 0)::BIGINT AS sha1_handshakes,
    -- the algorithms below the policy's minimum classical strength
    list_distinct(flatten([
      dlist(CASE WHEN kex_bits < getvariable('min_classical_bits') THEN kex_name END),
      dlist(CASE WHEN cipher_bits < getvariable('min_classical_bits') THEN cipher_name END),
      dlist(CASE WHEN sig_bits < getvariable('min_classical_bits') THEN sig_name END)])) AS weak_algs
  FROM a
  GROUP BY asset_type, asset_id
), op AS (
  -- what the asset offered (clients: their ClientHello/KEXINIT; SSH servers: their KEXINIT)
  SELECT CASE WHEN proto = 'ssh' THEN 'ssh_client' ELSE 'tls_client' END AS asset_type,
    concat_ws('|', coalesce(host, ''), coalesce(container_id, ''), coalesce(exe, '')) AS asset_id, bool_or(client_offers_pq) AS offers_pq
  FROM int_handshake_offers WHERE role = 'client' GROUP BY ALL
  UNION ALL
  SELECT 'ssh_server', concat_ws('|', coalesce(server_addr, ''), coalesce(CAST(server_port AS VARCHAR), '')), bool_or(server_offers_pq)
  FROM int_handshake_offers WHERE proto = 'ssh' GROUP BY ALL
), handshake_assets AS (
  SELECT g.*, e.leaf_cert_sha256 AS cert_sha256, op.offers_pq
  FROM g LEFT JOIN op ON op.asset_type = g.asset_type AND op.asset_id = g.asset_id
  LEFT JOIN inv_tls_endpoints e
    ON g.asset_type = 'tls_endpoint' AND e.proto = g.proto AND e.server_addr IS NOT DISTINCT FROM g.server_addr
    AND e.server_port IS NOT DISTINCT FROM g.server_port AND e.sni IS NOT DISTINCT FROM g.sni
)
SELECT h.asset_type, h.asset_id, h.label, h.host, h.handshakes, h.first_seen, h.last_seen,
  h.pq_handshakes, h.only_pq_handshakes, h.known_handshakes,
  CASE WHEN h.known_handshakes = 0 THEN 'unknown'
       WHEN h.pq_handshakes = h.known_handshakes THEN CASE WHEN h.only_pq_handshakes = h.known_handshakes THEN 'pq' ELSE 'hybrid' END
       WHEN h.pq_handshakes = 0 THEN 'classical' ELSE 'mixed' END AS kex_status,
  h.kex_vuln,
  list_sort(list_distinct(list_concat(h.auth_vuln,
    CASE WHEN c.quantum_status = 'shor-broken' THEN [c.key_family || coalesce('-' || c.key_bits, '') || ' certificate key'] ELSE [] END))) AS auth_vuln,
  least(h.min_bits, c.classical_bits) AS min_bits,
  least(h.deprecated_after, CASE WHEN c.quantum_status = 'shor-broken' THEN ir8547_deprecated(c.classical_bits) END) AS deprecated_after,
  least(h.disallowed_after, CASE WHEN c.quantum_status = 'shor-broken' THEN ir8547_disallowed(c.classical_bits) END) AS disallowed_after,
  h.legacy_versions, h.tls12_versions, h.legacy_handshakes, h.below13_handshakes, h.no_fs, h.no_fs_handshakes, h.sha1_sigs, h.sha1_handshakes,
  h.weak_algs, coalesce(h.offers_pq, false) AS offers_pq,
  h.cert_sha256, c.days_to_expiry AS cert_days_to_expiry, c.expired AS cert_expired
FROM handshake_assets h LEFT JOIN inv_certificates c ON c.sha256 = h.cert_sha256
UNION ALL BY NAME
SELECT 'certificate' AS asset_type, c.sha256 AS asset_id, coalesce(c.subject, c.sha256) AS label, NULL::VARCHAR AS host,
  c.times_seen AS handshakes, c.first_seen, c.last_seen, 0::BIGINT AS pq_handshakes, 0::BIGINT AS only_pq_handshakes, 0::BIGINT AS known_handshakes,
  'n-a' AS kex_status, []::VARCHAR[] AS kex_vuln,
  CASE WHEN c.quantum_status = 'shor-broken' THEN [c.key_family || coalesce('-' || c.key_bits, '') || ' key'] ELSE []::VARCHAR[] END AS auth_vuln,
  c.classical_bits AS min_bits,
  CASE WHEN c.quantum_status = 'shor-broken' THEN ir8547_deprecated(c.classical_bits) END AS deprecated_after,
  CASE WHEN c.quantum_status = 'shor-broken' THEN ir8547_disallowed(c.classical_bits) END AS disallowed_after,
  []::VARCHAR[] AS legacy_versions, []::VARCHAR[] AS tls12_versions, 0::BIGINT AS legacy_handshakes, 0::BIGINT AS below13_handshakes, []::VARCHAR[] AS no_fs, 0::BIGINT AS no_fs_handshakes,
  CASE WHEN c.sig_hash = 'sha1' AND NOT coalesce(c.self_signed AND c.is_ca, false) THEN [c.sig_alg] ELSE []::VARCHAR[] END AS sha1_sigs,
  0::BIGINT AS sha1_handshakes,
  CASE WHEN c.classical_bits < getvariable('min_classical_bits') THEN [coalesce(c.key_family, '?') || coalesce('-' || c.key_bits, '')] ELSE []::VARCHAR[] END AS weak_algs,
  false AS offers_pq,
  c.sha256 AS cert_sha256, c.days_to_expiry AS cert_days_to_expiry, c.expired AS cert_expired
FROM inv_certificates c
