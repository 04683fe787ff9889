// The precomputed answers of a page: the results of its queries for the page as first opened, written by the
// build (site/precompute.ts) as one JSON file per page and read back by pagedata.js. Plain JavaScript with no
// imports: the build (Node) and the pages (browser) share this one definition of the format.
//
// A result is {columns, dates, data}: data[i] holds column i's values; a column of timestamps is listed in
// dates and stored as epoch milliseconds; a column of strings that repeat is {dict, idx}. Results are keyed by
// the query itself (its SQL text and parameters), so a page finds the answer to exactly the query it would run.

/** The lookup key of a query. */
export const answerKey = (sql, params = []) => JSON.stringify([sql, params]);

/** Rows (plain objects; timestamps as Date) → the stored form. */
export function encodeResult(columns, rows) {
  const dates = [];
  const data = columns.map((c) => {
    const values = rows.map((r) => r[c] ?? null);
    if (values.some((v) => v instanceof Date)) {
      dates.push(c);
      return values.map((v) => (v == null ? null : +v));
    }
    if (values.length > 8 && values.every((v) => v == null || typeof v === "string")) {
      const dict = [...new Set(values)];
      if (dict.length * 2 <= values.length) {
        const at = new Map(dict.map((v, i) => [v, i]));
        return {dict, idx: values.map((v) => at.get(v))};
      }
    }
    return values;
  });
  return {columns, dates, data};
}

/** The stored form → rows, as the page's DuckDB-WASM queries return them (util.js rows()). */
export function decodeResult({columns, dates, data}) {
  const cols = data.map((d, i) => {
    const values = Array.isArray(d) ? d : d.idx.map((j) => d.dict[j]);
    return dates.includes(columns[i]) ? values.map((v) => (v == null ? null : new Date(v))) : values;
  });
  const n = cols.length ? cols[0].length : 0;
  const out = new Array(n);
  for (let r = 0; r < n; r++) {
    const o = {};
    for (let c = 0; c < columns.length; c++) o[columns[c]] = cols[c][r];
    out[r] = o;
  }
  return out;
}

/** A query spec's entry → [sql, params]: an entry returns an SQL string or [sql, params]. */
export function toQuery(q) {
  return typeof q === "string" ? [q, []] : [q[0], q[1] ?? []];
}
