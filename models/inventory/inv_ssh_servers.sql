-- depends: int_handshake_facts, int_handshake_offers
-- SSH servers: banner, what they offer (latest KEXINIT) and what was negotiated.
WITH f AS (
  SELECT server_addr, server_port,
    dlist(host) AS hosts, min(first_seen) AS first_seen, max(last_seen) AS last_seen,
    sum(handshakes)::BIGINT AS handshakes,
    dlist(kex_name) AS kex_chosen, dlist(sig_name) AS hostkeys_chosen, dlist(cipher_name) AS ciphers_chosen,
    dlist(mac_name) AS macs_chosen,
    coalesce(sum(handshakes) FILTER (WHERE kex_class IN ('pq', 'hybrid')), 0)::BIGINT AS pq_handshakes,
    coalesce(sum(handshakes) FILTER (WHERE kex_class <> 'unknown'), 0)::BIGINT AS known_handshakes
  FROM int_handshake_facts WHERE proto = 'ssh'
  GROUP BY server_addr, server_port
), o AS (
  SELECT server_addr, server_port,
    arg_max(ssh_server_banner, last_seen) FILTER (WHERE ssh_server_banner IS NOT NULL) AS banner,
    arg_max(ssh_kex_server, last_seen) FILTER (WHERE ssh_kex_server IS NOT NULL) AS kex_offered,
    arg_max(ssh_hostkey_server, last_seen) FILTER (WHERE ssh_hostkey_server IS NOT NULL) AS hostkeys_offered,
    bool_or(server_offers_pq) AS offers_pq_kex
  FROM int_handshake_offers WHERE proto = 'ssh'
  GROUP BY server_addr, server_port
)
SELECT f.server_addr, f.server_port, f.server_addr || ':' || coalesce(CAST(f.server_port AS VARCHAR), '?') AS endpoint,
  o.banner, f.hosts, f.first_seen, f.last_seen, f.handshakes,
  coalesce(o.kex_offered, []) AS kex_offered, coalesce(o.hostkeys_offered, []) AS hostkeys_offered,
  f.kex_chosen, f.hostkeys_chosen, f.ciphers_chosen, f.macs_chosen,
  coalesce(o.offers_pq_kex, false) AS offers_pq_kex,
  f.pq_handshakes, share(f.pq_handshakes, f.known_handshakes) AS pq_share
FROM f LEFT JOIN o ON o.server_addr IS NOT DISTINCT FROM f.server_addr AND o.server_port IS NOT DISTINCT FROM f.server_port
