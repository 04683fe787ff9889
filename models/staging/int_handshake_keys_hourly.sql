-- depends: raw_handshakes
-- materialized: table
-- The full scan of the lake's handshake scalars: rows counted per hour, process, server and negotiated code
-- points. Cheap integer/dictionary keys only; the whole-period facts and the hourly series are re-aggregations
-- of this, and names are joined on the few resulting rows.
SELECT
  date_trunc('hour', ts) AS hour,
  host, proto, source, role, container_id, exe, library, server_addr, server_port, sni,
  version_chosen, suite_chosen, group_chosen, sig_alg_chosen, ssh_kex, ssh_hostkey, ssh_cipher_c2s, ssh_mac_c2s,
  any_value(comm) AS comm,
  count(*)::BIGINT AS handshakes,
  min(ts) AS first_seen,
  max(ts) AS last_seen
FROM raw_handshakes
GROUP BY ALL
