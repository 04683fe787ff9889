// Algorithms: process × algorithm heatmap (busiest processes) and host × time heatmap of the PQ share.
import {and, span, timeBucket, where} from "../components/sql.js";

export const tables = {usage: "rpt_heatmap_process_algorithm", host_hour: "rpt_heatmap_host_hour"};

export const boot = {
  hosts: () => `SELECT DISTINCT host FROM host_hour UNION SELECT DISTINCT host FROM usage ORDER BY 1`,
  kinds: () => `SELECT kind, sum(handshakes)::BIGINT AS n FROM usage GROUP BY kind ORDER BY kind = 'kex' DESC, n DESC, kind`,
  bounds: () => `SELECT min(hour) AS min, max(hour) AS max FROM host_hour`
};

// The radio starts on the first kind (key exchange when there is any).
export const defaults = (b) => ({filter: {host: null}, kind: b.kinds[0]?.kind ?? null});

export const TOP_PROCESSES = 40; // processes shown: the busiest, so the heatmap stays readable

export function bucket(filter, b) {
  const s = span(filter, b.bounds[0]);
  return timeBucket(s.from, s.to);
}

export const views = {
  cells: ({filter, kind}) => {
    const w = where(filter, {time: null});
    return [`WITH u AS (SELECT * FROM usage ${and(w, "kind = ?")}),
          top AS (SELECT process FROM u GROUP BY process ORDER BY sum(handshakes) DESC, process LIMIT ${TOP_PROCESSES})
     SELECT process, algorithm, quantum_status, sum(handshakes)::BIGINT AS handshakes
     FROM u JOIN top USING (process) GROUP BY ALL ORDER BY process, algorithm, quantum_status`, [...w.params, kind ?? null]];
  },
  hostHour: ({filter}, b) => {
    const w = where(filter, {bounds: b.bounds[0]});
    return [`SELECT host, date_trunc('${bucket(filter, b)}', hour) AS t, sum(handshakes)::BIGINT AS handshakes, sum(pq_handshakes)::DOUBLE / nullif(sum(handshakes), 0) AS pq_share
     FROM host_hour ${w.sql} GROUP BY ALL ORDER BY host, t`, w.params];
  }
};
