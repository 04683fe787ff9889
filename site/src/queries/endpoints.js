// TLS endpoints and clients: counts, PQ share against traffic, searchable and filterable tables.
import {and, where} from "../components/sql.js";

export const tables = {endpoints: "inv_tls_endpoints", clients: "inv_tls_clients"};

export const boot = {
  hosts: () => `SELECT host FROM (SELECT unnest(hosts) AS host FROM endpoints UNION SELECT host FROM clients) ORDER BY host`,
  bounds: () => `SELECT min(first_seen) AS min, max(last_seen) AS max FROM (SELECT first_seen, last_seen FROM endpoints UNION ALL SELECT first_seen, last_seen FROM clients)`
};

export const ONLY = ["without PQ key exchange", "TLS 1.2 or older"];
export const defaults = () => ({filter: {host: null}, only: [], search: ""});

export const LIMIT = 1000; // rows of each table the page holds: the busiest; search reaches the rest

// What the search box matches: the row's text.
const TEXT = `concat_ws(' ', endpoint, proto, array_to_string(versions, ' '), array_to_string(groups, ' '), array_to_string(suites, ' '),
  array_to_string(sig_algs, ' '), cert_subject, cert_issuer, cert_key_alg, array_to_string(hosts, ' '))`;
const CLIENT_TEXT = `concat_ws(' ', host, container_id, exe, comm, library, array_to_string(groups_offered, ' '), array_to_string(groups_chosen, ' '))`;

const endpointsWhere = ({filter, only, search}, b) => {
  const w = where(filter, {hostColumn: {list: "hosts"}, time: {first: "first_seen", last: "last_seen"}, bounds: b.bounds[0]});
  return {
    sql: and(w,
      only.includes(ONLY[0]) ? "pq_handshakes = 0" : null,
      only.includes(ONLY[1]) ? "len(list_filter(versions, v -> v NOT IN ('TLS 1.3', 'DTLS 1.3'))) > 0" : null,
      search ? `${TEXT} ILIKE ?` : null),
    params: search ? [...w.params, `%${search}%`] : w.params
  };
};

export const views = {
  stats: (s, b) => {
    const c = endpointsWhere(s, b);
    return [`SELECT count(*)::INTEGER AS endpoints, sum(handshakes)::BIGINT AS handshakes, count(*) FILTER (pq_handshakes = 0)::INTEGER AS never_pq,
            count(*) FILTER (pq_share = 1)::INTEGER AS always_pq
     FROM endpoints ${c.sql}`, c.params];
  },
  // Search runs in DuckDB over every endpoint; the page holds only the rows it shows.
  endpoints: (s, b) => {
    const c = endpointsWhere(s, b);
    return [`SELECT endpoint, proto, sni, server_addr, server_port, handshakes, pq_handshakes, pq_share,
            array_to_string(versions, ', ') AS versions, array_to_string(groups, ', ') AS groups,
            array_to_string(suites, ', ') AS suites, array_to_string(sig_algs, ', ') AS sig_algs,
            array_to_string(alpn, ', ') AS alpn, cert_subject, cert_key_alg, cert_key_bits, cert_not_after,
            array_to_string(hosts, ', ') AS seen_by, first_seen, last_seen
     FROM endpoints ${c.sql} ORDER BY handshakes DESC, endpoint, proto, server_addr, server_port, sni LIMIT ${LIMIT}`, c.params];
  },
  clients: ({filter, search}, b) => {
    const w = where(filter, {time: {first: "first_seen", last: "last_seen"}, bounds: b.bounds[0]});
    return [`SELECT host, coalesce(container_id, '') AS container, exe, comm, library, handshakes, servers, offers_pq, pq_share,
            array_to_string(versions_offered, ', ') AS versions_offered, array_to_string(groups_offered, ', ') AS groups_offered,
            array_to_string(groups_chosen, ', ') AS groups_chosen, array_to_string(suites_chosen, ', ') AS suites_chosen, last_seen
     FROM clients ${and(w, search ? `${CLIENT_TEXT} ILIKE ?` : null)} ORDER BY handshakes DESC, host, container, exe, comm, library LIMIT ${LIMIT}`,
    search ? [...w.params, `%${search}%`] : w.params];
  }
};
