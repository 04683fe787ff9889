-- depends: int_handshake_facts
-- How often each negotiated algorithm was used, per process and protocol.
WITH u AS (
  SELECT host, container_id, exe, proto, handshakes, first_seen, last_seen,
    unnest([
      {'kind': 'version',   'algorithm': version_name, 'qs': NULL::VARCHAR,        'bits': NULL::INTEGER},
      {'kind': 'kex',       'algorithm': kex_name,     'qs': kex_quantum_status,    'bits': kex_bits},
      {'kind': 'cipher',    'algorithm': cipher_name,  'qs': cipher_quantum_status, 'bits': cipher_bits},
      {'kind': CASE WHEN proto = 'ssh' THEN 'hostkey' ELSE 'signature' END, 'algorithm': sig_name, 'qs': sig_quantum_status, 'bits': sig_bits},
      {'kind': 'mac',       'algorithm': CASE WHEN proto = 'ssh' THEN mac_name END, 'qs': NULL::VARCHAR, 'bits': NULL::INTEGER}
    ]) AS a
  FROM int_handshake_facts
)
SELECT host, container_id, exe, proto, a.kind AS kind, a.algorithm AS algorithm,
  any_value(a.qs) AS quantum_status, any_value(a.bits) AS classical_bits,
  sum(handshakes)::BIGINT AS handshakes, min(first_seen) AS first_seen, max(last_seen) AS last_seen
FROM u
WHERE a.algorithm IS NOT NULL
GROUP BY host, container_id, exe, proto, a.kind, a.algorithm
