-- depends: int_handshake_scan
-- materialized: table
-- The distinct offered lists (and banners, ALPN, leaf certificate) per process and server, with when each was
-- last seen and whether they include a PQ/hybrid key exchange (tested on the few distinct rows, not per handshake).
WITH d AS (
  SELECT host, proto, role, container_id, exe, server_addr, server_port, sni,
    coalesce(versions_offered, CASE WHEN legacy_version IS NOT NULL THEN [legacy_version] END) AS versions_offered,
    list_concat(groups_offered, key_share_groups) AS groups_offered,
    alpn_chosen, leaf_cert_sha256,
    ssh_client_banner, ssh_server_banner, ssh_kex_client, ssh_kex_server, ssh_hostkey_server,
    sum(handshakes)::BIGINT AS handshakes,
    max(last_seen) AS last_seen
  FROM int_handshake_scan
  GROUP BY ALL
)
SELECT *,
  CASE WHEN proto = 'ssh' THEN list_has_any(ssh_kex_client, getvariable('pq_ssh_kex'))
       ELSE list_has_any(groups_offered, getvariable('pq_tls_groups')) END AS client_offers_pq,
  CASE WHEN proto = 'ssh' THEN list_has_any(ssh_kex_server, getvariable('pq_ssh_kex')) END AS server_offers_pq
FROM d
