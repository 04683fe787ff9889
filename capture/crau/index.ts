// crypto-auditing (USDT provider crypto_auditing): probes, records, context trees and crau-query JSON.
export { CrauProbes } from "./probes.ts";
export { decodeCrauRecord, crauRow, type CrauRecord } from "./records.ts";
export { buildContextTrees, type CrauContext, type CrauEventRow } from "./tree.ts";
export { crauQuery, CrauQueryError, type CrauQueryOptions } from "./query.ts";
