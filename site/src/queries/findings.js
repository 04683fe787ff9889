// Findings: by rule, by asset type, and the searchable table of risk_findings.
import {where} from "../components/sql.js";
import {SEVERITY} from "../components/util.js";

export const tables = {findings: "risk_findings"};

export const boot = {
  hosts: () => `SELECT DISTINCT host FROM findings WHERE host IS NOT NULL ORDER BY host`,
  bounds: () => `SELECT min(first_seen) AS min, max(last_seen) AS max FROM findings`
};

export const defaults = () => ({filter: {host: null}, severities: SEVERITY.domain, search: ""});

export const LIMIT = 1000; // rows of the table the page holds: the most severe; search reaches the rest

const TEXT = `concat_ws(' ', rule, severity, asset_type, label, host, message, observed, threshold)`;

// Findings about servers and certificates have no agent host: a host filter keeps them (they are fleet-wide).
function cond({filter, severities}, b) {
  const w = where({...filter, host: null}, {time: {first: "first_seen", last: "last_seen"}, bounds: b.bounds[0]});
  return {
    clauses: [
      ...w.clauses,
      filter.host ? "(host = ? OR host IS NULL)" : null,
      severities.length ? `severity IN (${severities.map(() => "?").join(", ")})` : "FALSE"
    ].filter(Boolean),
    params: [...w.params, ...(filter.host ? [filter.host] : []), ...severities]
  };
}

export const views = {
  byRule: (s, b) => {
    const c = cond(s, b);
    return [`SELECT rule, severity, count(*)::INTEGER AS findings FROM findings WHERE ${c.clauses.join(" AND ")} GROUP BY ALL ORDER BY rule, severity`, c.params];
  },
  byAsset: (s, b) => {
    const c = cond(s, b);
    return [`SELECT asset_type, severity, count(*)::INTEGER AS findings FROM findings WHERE ${c.clauses.join(" AND ")} GROUP BY ALL ORDER BY asset_type, severity`, c.params];
  },
  // Search runs in DuckDB over every finding; the page holds only the rows it shows.
  table: ({filter, severities, search}, b) => {
    const c = cond({filter, severities}, b);
    const clauses = [...c.clauses, ...(search ? [`${TEXT} ILIKE ?`] : [])];
    return [`SELECT severity, severity_rank, rule, asset_type, label, host, message, observed, threshold, occurrences, first_seen, last_seen
     FROM findings WHERE ${clauses.join(" AND ")}
     ORDER BY severity_rank DESC, occurrences DESC, rule, asset_type, asset_id, host NULLS FIRST, message LIMIT ${LIMIT}`,
    search ? [...c.params, `%${search}%`] : c.params];
  }
};
