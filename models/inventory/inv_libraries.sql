-- depends: stg_processes, stg_library_events
-- Crypto libraries in use per process: mapped (processes.libraries) and called (library_events).
WITH mapped AS (
  SELECT host, container_id, exe, lib_family(coalesce(l.soname, l.path)) AS library, l.soname, l.path, l.version, pid, ts
  FROM (SELECT host, container_id, exe, pid, ts, unnest(libraries) AS l FROM stg_processes WHERE libraries IS NOT NULL)
), m AS (
  SELECT host, container_id, exe, library, dlist(soname) AS sonames, dlist(path) AS paths, mode(version) AS version,
    count(DISTINCT pid)::BIGINT AS processes, min(ts) AS first_seen, max(ts) AS last_seen
  FROM mapped GROUP BY ALL
), e AS (
  SELECT host, container_id, exe, library_family AS library, dlist(library_path) AS paths,
    count(*)::BIGINT AS events, min(ts) AS first_seen, max(ts) AS last_seen
  FROM stg_library_events WHERE library_family IS NOT NULL GROUP BY ALL
)
SELECT
  coalesce(m.host, e.host) AS host, coalesce(m.container_id, e.container_id) AS container_id, coalesce(m.exe, e.exe) AS exe,
  coalesce(m.library, e.library) AS library,
  coalesce(m.sonames, []) AS sonames,
  list_sort(list_distinct(list_concat(coalesce(m.paths, []), coalesce(e.paths, [])))) AS paths,
  m.version,
  coalesce(m.processes, 0)::BIGINT AS processes,
  coalesce(e.events, 0)::BIGINT AS events,
  least(m.first_seen, e.first_seen) AS first_seen,
  greatest(m.last_seen, e.last_seen) AS last_seen,
  list_filter(['mapped', 'called'], x -> (x = 'mapped' AND m.library IS NOT NULL) OR (x = 'called' AND e.library IS NOT NULL)) AS seen_by
FROM m FULL OUTER JOIN e
  ON m.host IS NOT DISTINCT FROM e.host AND m.container_id IS NOT DISTINCT FROM e.container_id
  AND m.exe IS NOT DISTINCT FROM e.exe AND m.library = e.library
