-- depends: raw_handshakes
-- materialized: table
-- The distinct offered lists (and banners, ALPN, leaf certificate) per process and server, with when each was
-- last seen and whether they include a PQ/hybrid key exchange: the one scan of the lake's list columns. The
-- PQ tests run on the few distinct rows, not on every handshake.
WITH d AS (
  SELECT host, proto, role, container_id, exe, server_addr, server_port, sni,
    coalesce(versions_offered, CASE WHEN legacy_version IS NOT NULL THEN [legacy_version] END) AS versions_offered,
    list_concat(groups_offered, key_share_groups) AS groups_offered,
    alpn_chosen, leaf_cert_sha256,
    ssh_client_banner, ssh_server_banner, ssh_kex_client, ssh_kex_server, ssh_hostkey_server,
    count(*)::BIGINT AS handshakes,
    max(ts) AS last_seen
  FROM raw_handshakes
  GROUP BY ALL
)
SELECT *,
  CASE WHEN proto = 'ssh' THEN list_has_any(ssh_kex_client, getvariable('pq_ssh_kex'))
       ELSE list_has_any(groups_offered, getvariable('pq_tls_groups')) END AS client_offers_pq,
  CASE WHEN proto = 'ssh' THEN list_has_any(ssh_kex_server, getvariable('pq_ssh_kex')) END AS server_offers_pq
FROM d
