-- depends: stg_certificates
-- One row per certificate (SHA-256 of the DER), with where it was seen and its classification.
SELECT
  sha256,
  arg_max(subject, ts) AS subject,
  arg_max(issuer, ts) AS issuer,
  arg_max(serial, ts) AS serial,
  arg_max(not_before, ts) AS not_before,
  arg_max(not_after, ts) AS not_after,
  date_diff('day', getvariable('as_of'), arg_max(not_after, ts))::INTEGER AS days_to_expiry,
  arg_max(not_after, ts) < getvariable('as_of') AS expired,
  arg_max(key_alg, ts) AS key_alg,
  arg_max(key_bits, ts) AS key_bits,
  arg_max(key_curve, ts) AS key_curve,
  arg_max(key_family, ts) AS key_family,
  arg_max(sig_name, ts) AS sig_alg,
  arg_max(sig_hash, ts) AS sig_hash,
  bool_or(is_ca) AS is_ca,
  arg_max(subject, ts) = arg_max(issuer, ts) AS self_signed,
  min(chain_position) AS chain_position,
  arg_max(sans, ts) AS sans,
  arg_max(key_quantum_status, ts) AS quantum_status,
  least(arg_max(key_classical_bits, ts), arg_max(sig_hash_cap_bits, ts)) AS classical_bits,
  dlist(CASE WHEN server_addr IS NOT NULL OR sni IS NOT NULL THEN endpoint_label(sni, server_addr, server_port)  END) AS endpoints,
  dlist(host) AS hosts,
  min(ts) AS first_seen,
  max(ts) AS last_seen,
  count(*)::BIGINT AS times_seen
FROM stg_certificates
WHERE sha256 IS NOT NULL
GROUP BY sha256
