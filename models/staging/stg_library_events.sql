-- depends: raw_library_events
-- materialized: view
SELECT e.* EXCLUDE (value_blob), date_trunc('hour', e.ts) AS hour, lib_family(coalesce(e.library, e.library_path)) AS library_family
FROM raw_library_events e
