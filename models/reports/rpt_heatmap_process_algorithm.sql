-- depends: inv_algorithm_usage
-- Heatmap cells: process × algorithm, all protocols together.
SELECT process_label(host, container_id, exe, NULL) AS process, host, container_id, exe, kind, algorithm,
  any_value(quantum_status) AS quantum_status, sum(handshakes)::BIGINT AS handshakes
FROM inv_algorithm_usage
GROUP BY host, container_id, exe, kind, algorithm
