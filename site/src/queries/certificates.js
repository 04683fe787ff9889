// Certificates: counts, expiry timeline, key types and sizes, signature algorithms, the searchable table.
import {and, where} from "../components/sql.js";

export const tables = {certs: "inv_certificates"};

export const boot = {
  hosts: () => `SELECT DISTINCT unnest(hosts) AS host FROM certs ORDER BY host`,
  bounds: () => `SELECT min(first_seen) AS min, max(last_seen) AS max FROM certs`
};

export const defaults = () => ({filter: {host: null}, search: ""});

export const LIMIT = 1000; // rows of the table the page holds: the ones that expire first; search reaches the rest
export const TIMELINE = 60;

const w = (filter, b) => where(filter, {hostColumn: {list: "hosts"}, time: {first: "first_seen", last: "last_seen"}, bounds: b.bounds[0]});
const KEY = `coalesce(key_curve, CASE WHEN key_bits IS NOT NULL THEN key_alg || ' ' || key_bits ELSE key_alg END)`;
// What the search box matches: the row's text.
const TEXT = `concat_ws(' ', subject, issuer, key_alg, key_curve, key_bits::VARCHAR, sig_alg, quantum_status, array_to_string(endpoints, ' '), array_to_string(hosts, ' '))`;

export const views = {
  stats: ({filter}, b) => {
    const c = w(filter, b);
    return [`SELECT count(*)::INTEGER AS certificates, count(*) FILTER (expired)::INTEGER AS expired,
            count(*) FILTER (NOT expired AND days_to_expiry <= 30)::INTEGER AS expiring_soon,
            count(*) FILTER (quantum_status = 'shor-broken')::INTEGER AS shor_broken
     FROM certs ${c.sql}`, c.params];
  },
  // The ones that expire first, one row each (by SHA-256: two certificates may share a name), labelled by CN.
  timeline: ({filter}, b) => {
    const c = w(filter, b);
    return [`SELECT sha256, subject, coalesce(nullif(regexp_extract(subject, 'CN=([^,]+)', 1), ''), subject) AS name,
            not_before, not_after, expired, quantum_status
     FROM certs ${c.sql} ORDER BY not_after, sha256 LIMIT ${TIMELINE}`, c.params];
  },
  keys: ({filter}, b) => {
    const c = w(filter, b);
    return [`SELECT ${KEY} AS key, coalesce(key_family, key_alg) AS family, quantum_status, count(*)::INTEGER AS certificates
     FROM certs ${c.sql} GROUP BY ALL ORDER BY certificates DESC, key, family, quantum_status`, c.params];
  },
  sigs: ({filter}, b) => {
    const c = w(filter, b);
    return [`SELECT sig_alg, count(*)::INTEGER AS certificates FROM certs ${c.sql} GROUP BY ALL ORDER BY certificates DESC, sig_alg`, c.params];
  },
  // Search runs in DuckDB over every certificate; the page holds only the rows it shows.
  table: ({filter, search}, b) => {
    const c = w(filter, b);
    return [`SELECT subject, issuer, not_after, days_to_expiry, sig_alg, quantum_status, ${KEY} AS key_label,
            array_to_string(endpoints, ', ') AS endpoints, array_to_string(hosts, ', ') AS hosts
     FROM certs ${and(c, search ? `${TEXT} ILIKE ?` : null)} ORDER BY not_after, sha256 LIMIT ${LIMIT}`,
    search ? [...c.params, `%${search}%`] : c.params];
  }
};
