// Formatting and colours shared by every page, so a status has the same colour everywhere.
export const pct = (x, digits = 1) => (x == null || Number.isNaN(x) ? "–" : `${(x * 100).toFixed(digits)}%`);
export const int = (x) => (x == null ? "–" : Math.round(Number(x)).toLocaleString("en-US"));
export const day = (d) => (d == null ? "–" : new Date(d).toISOString().slice(0, 10));
export const hourLabel = (d) => (d == null ? "–" : new Date(d).toISOString().slice(0, 16).replace("T", " "));

// quantum_status of an algorithm (models/README.md vocabulary)
export const QUANTUM = {
  domain: ["post-quantum", "hybrid", "grover-weakened", "shor-broken", "none"],
  range: ["#1a9850", "#91cf60", "#fdae61", "#d73027", "#bdbdbd"]
};
// key-exchange class of handshakes
export const KEX = {
  domain: ["pq", "hybrid", "classical", "unknown"],
  range: ["#1a9850", "#91cf60", "#d73027", "#bdbdbd"]
};
export const SEVERITY = {
  domain: ["critical", "high", "medium", "low", "info"],
  range: ["#67001f", "#d6604d", "#f4a582", "#92c5de", "#d1e5f0"]
};

/**
 * Arrow table → plain objects (Plot and Inputs.table take either; plain objects are easier to reuse).
 * Arrow JS returns dates and timestamps as epoch milliseconds: those columns become Date objects here.
 */
export function rows(table) {
  const dates = table.schema.fields.filter((f) => /^(Date|Timestamp)/.test(String(f.type))).map((f) => f.name);
  return Array.from(table, (r) => {
    const o = r.toJSON();
    for (const k of dates) if (o[k] != null) o[k] = new Date(o[k]);
    return o;
  });
}

// Shared with the queries modules (plain SQL helpers).
export {timeBucket} from "./sql.js";
