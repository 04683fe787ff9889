// Overview: readiness, counts, key-exchange mix, PQ share over time, top findings (see pagedata.js for the shape).
import {timeBucket} from "../components/sql.js";

export const tables = {
  readiness: "risk_readiness",
  // Finding counts and the worst findings per host, from risk_findings (site/derive.ts).
  findings_by_severity: "findings_by_severity",
  findings: "findings_top",
  host_hour: "rpt_heatmap_host_hour"
};

export const boot = {
  hosts: () => `SELECT host FROM readiness WHERE host IS NOT NULL ORDER BY host`,
  byHost: () => `SELECT host, readiness, handshake_pq_share, endpoint_pq_share, handshakes FROM readiness WHERE host IS NOT NULL ORDER BY readiness DESC, host`,
  fleet: () => `SELECT readiness FROM readiness WHERE scope = 'fleet'`,
  span: () => `SELECT min(hour) AS min, max(hour) AS max FROM host_hour`
};

export const defaults = () => ({filter: {host: null}});

/** The trend's time bucket: fixed by the data's span (the filter here is a host only). */
export const bucket = (b) => timeBucket(b.span[0]?.min, b.span[0]?.max);

export const views = {
  readiness: ({filter}) => filter.host
    ? [`SELECT * FROM readiness WHERE host = ?`, [filter.host]]
    : `SELECT * FROM readiness WHERE scope = 'fleet'`,
  severities: ({filter}) => [
    `SELECT severity, severity_rank, sum(findings)::INTEGER AS findings FROM findings_by_severity
     ${filter.host ? "WHERE host = ? OR host IS NULL" : ""} GROUP BY ALL ORDER BY severity_rank DESC, severity`,
    filter.host ? [filter.host] : []
  ],
  trend: ({filter}, b) => [
    `SELECT date_trunc('${bucket(b)}', hour) AS t, sum(pq_handshakes)::DOUBLE / nullif(sum(handshakes), 0) AS pq_share, sum(handshakes)::BIGINT AS handshakes
     FROM host_hour ${filter.host ? "WHERE host = ?" : ""} GROUP BY t ORDER BY t`,
    filter.host ? [filter.host] : []
  ],
  top: ({filter}) => [
    `SELECT severity, rule, label, message, occurrences, last_seen FROM findings
     ${filter.host ? "WHERE host = ? OR host IS NULL" : ""}
     ORDER BY severity_rank DESC, occurrences DESC, rule, label, host NULLS FIRST, message LIMIT 10`,
    filter.host ? [filter.host] : []
  ]
};
