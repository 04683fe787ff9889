-- depends: raw_processes
-- materialized: view
SELECT p.*, date_trunc('hour', p.ts) AS hour FROM raw_processes p
