-- depends: int_handshake_hourly
-- The fleet's line: share of PQ/hybrid key exchanges per hour, all hosts and services together.
SELECT hour,
  sum(handshakes)::BIGINT AS handshakes,
  coalesce(sum(handshakes) FILTER (WHERE kex_class = 'pq'), 0)::BIGINT AS pq_handshakes,
  coalesce(sum(handshakes) FILTER (WHERE kex_class = 'hybrid'), 0)::BIGINT AS hybrid_handshakes,
  coalesce(sum(handshakes) FILTER (WHERE kex_class = 'classical'), 0)::BIGINT AS classical_handshakes,
  share(sum(handshakes) FILTER (WHERE kex_class IN ('pq', 'hybrid')), sum(handshakes) FILTER (WHERE kex_class <> 'unknown')) AS pq_share
FROM int_handshake_hourly
GROUP BY hour
