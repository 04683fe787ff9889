-- depends: int_handshake_hourly
-- Heatmap cells: agent host × hour.
SELECT host, hour,
  sum(handshakes)::BIGINT AS handshakes,
  coalesce(sum(handshakes) FILTER (WHERE kex_class IN ('pq', 'hybrid')), 0)::BIGINT AS pq_handshakes,
  coalesce(sum(handshakes) FILTER (WHERE kex_class = 'classical'), 0)::BIGINT AS classical_handshakes,
  share(sum(handshakes) FILTER (WHERE kex_class IN ('pq', 'hybrid')), sum(handshakes) FILTER (WHERE kex_class <> 'unknown')) AS pq_share
FROM int_handshake_hourly
GROUP BY host, hour
