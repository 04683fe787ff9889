// SQL helpers shared by the pages (in the browser) and by the build (site/precompute.ts, in Node): plain
// JavaScript with no imports, so both can load it.

// Timestamps in the marts are UTC without zone: compare against UTC wall-clock strings.
export const sqlTs = (d) => new Date(d).toISOString().slice(0, 19).replace("T", " ");

const MINUTE = 60e3;

/**
 * The time window a filter selects, given the data's bounds {min, max}: {from, to, full}. The datetime inputs
 * hold minutes, so a window from the minute of min (or earlier) to the minute of max (or later) is the whole
 * range: `full`, and the queries leave the time clause out (the same SQL, and so the same precomputed answer,
 * as a page that has not been touched).
 */
export function span(filter, bounds) {
  const min = bounds?.min == null ? null : +new Date(bounds.min);
  const max = bounds?.max == null ? null : +new Date(bounds.max);
  const from = filter?.from == null ? null : +new Date(filter.from);
  const to = filter?.to == null ? null : +new Date(filter.to);
  const full = from == null || to == null || min == null || max == null
    || (from <= min && to >= Math.floor(max / MINUTE) * MINUTE);
  return full ? {from: min == null ? null : new Date(min), to: max == null ? null : new Date(max), full: true}
    : {from: new Date(from), to: new Date(to), full: false};
}

/**
 * WHERE clause + parameters for a filter value {host, from, to}.
 * hostColumn: a VARCHAR column, or {list: "hosts"} for a VARCHAR[] of hosts.
 * time: {column} for a point in time (hour), or {first, last} for an interval that must overlap; null: no time.
 * bounds: {min, max} of the data, so a window over all of it adds no clause (see span).
 */
export function where(filter, {hostColumn = "host", time = {column: "hour"}, bounds = null} = {}) {
  const clauses = [];
  const params = [];
  if (filter?.host) {
    if (typeof hostColumn === "object") clauses.push(`list_contains(${hostColumn.list}, ?)`);
    else clauses.push(`${hostColumn} = ?`);
    params.push(filter.host);
  }
  const s = span(filter, bounds);
  if (time && !s.full) {
    if (time.column) clauses.push(`${time.column} >= ?::TIMESTAMP AND ${time.column} <= ?::TIMESTAMP`);
    else clauses.push(`${time.last} >= ?::TIMESTAMP AND ${time.first} <= ?::TIMESTAMP`);
    params.push(sqlTs(s.from), sqlTs(s.to));
  }
  return {sql: clauses.length ? `WHERE ${clauses.join(" AND ")}` : "", params, clauses};
}

/** AND of where()'s clauses and more conditions (strings; falsy ones skipped), as a WHERE clause. */
export function and(w, ...more) {
  const all = [...w.clauses, ...more.filter(Boolean)];
  return all.length ? `WHERE ${all.join(" AND ")}` : "";
}

/**
 * A time bucket that suits the span of the data (at most a few hundred bars): hours for a few days, days for
 * a few months, then weeks, months, years.
 * Returned as DuckDB's date_trunc unit and Plot's interval name (they agree).
 */
export function timeBucket(min, max) {
  const days = (new Date(max) - new Date(min)) / 86400e3;
  return days <= 4 ? "hour" : days <= 120 ? "day" : days <= 730 ? "week" : days <= 7300 ? "month" : "year";
}
