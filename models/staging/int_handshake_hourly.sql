-- depends: stg_handshakes
-- materialized: table
-- Handshakes per hour, agent host, service and key-exchange class: what the time-series reports read.
SELECT hour, host, proto, any_value(service) AS service, any_value(kex_class) AS kex_class, count(*)::BIGINT AS handshakes
FROM stg_handshakes
GROUP BY hour, host, proto, server_addr, server_port, sni, group_chosen, suite_chosen, ssh_kex
