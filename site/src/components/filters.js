// Host and time-range filters that every page turns into a WHERE clause and re-queries DuckDB-WASM with.
import * as Inputs from "npm:@observablehq/inputs";

/** A form {host, from, to}: host null = all hosts; from/to are Dates (UTC instants). */
export function hostTimeFilter({hosts, min, max, time = true}) {
  const fields = {host: Inputs.select([null, ...hosts], {label: "Host", format: (h) => h ?? "All hosts"})};
  if (time && min && max) {
    fields.from = Inputs.datetime({label: "From", value: min, min, max});
    fields.to = Inputs.datetime({label: "To", value: max, min, max});
  }
  return Inputs.form(fields);
}

// Timestamps in the marts are UTC without zone: compare against UTC wall-clock strings.
export const sqlTs = (d) => new Date(d).toISOString().slice(0, 19).replace("T", " ");

/**
 * WHERE clause + parameters for a filter value.
 * hostColumn: a VARCHAR column, or {list: "hosts"} for a VARCHAR[] of hosts.
 * time: {column} for a point in time (hour), or {first, last} for an interval that must overlap.
 */
export function where(filter, {hostColumn = "host", time = {column: "hour"}} = {}) {
  const clauses = [];
  const params = [];
  if (filter.host) {
    if (typeof hostColumn === "object") clauses.push(`list_contains(${hostColumn.list}, ?)`);
    else clauses.push(`${hostColumn} = ?`);
    params.push(filter.host);
  }
  if (time && filter.from && filter.to) {
    if (time.column) {
      clauses.push(`${time.column} >= ?::TIMESTAMP AND ${time.column} <= ?::TIMESTAMP`);
      params.push(sqlTs(filter.from), sqlTs(filter.to));
    } else {
      clauses.push(`${time.last} >= ?::TIMESTAMP AND ${time.first} <= ?::TIMESTAMP`);
      params.push(sqlTs(filter.from), sqlTs(filter.to));
    }
  }
  return {sql: clauses.length ? `WHERE ${clauses.join(" AND ")}` : "", params};
}
