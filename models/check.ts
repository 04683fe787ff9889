// Policy check over the risk_findings mart: the findings at or above a severity, most severe first.
import { runQuery, type QueryResult } from "./query.ts";
import { severityRank } from "./policy.ts";

export async function findings(db: string, minSeverity: string): Promise<QueryResult> {
  const rank = severityRank(minSeverity);
  return runQuery(db, `
    SELECT severity, rule, asset_type, label, message, observed, threshold, occurrences, last_seen, asset_id
    FROM risk_findings WHERE severity_rank >= ${rank}
    ORDER BY severity_rank DESC, rule, asset_type, label, asset_id`);
}
