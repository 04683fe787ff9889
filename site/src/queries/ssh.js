// SSH: servers and clients, the key exchanges servers settle on, and searchable tables.
import {and, where} from "../components/sql.js";

export const tables = {servers: "inv_ssh_servers", clients: "inv_ssh_clients"};

export const boot = {
  hosts: () => `SELECT host FROM (SELECT unnest(hosts) AS host FROM servers UNION SELECT host FROM clients) ORDER BY host`,
  bounds: () => `SELECT min(first_seen) AS min, max(last_seen) AS max FROM (SELECT first_seen, last_seen FROM servers UNION ALL SELECT first_seen, last_seen FROM clients)`
};

export const defaults = () => ({filter: {host: null}, serverSearch: "", clientSearch: ""});

export const LIMIT = 1000; // rows of each table the page holds: the busiest; search reaches the rest
export const TOP = 30; // servers in the PQ-share chart

const ws = (filter, b) => where(filter, {hostColumn: {list: "hosts"}, time: {first: "first_seen", last: "last_seen"}, bounds: b.bounds[0]});
const wc = (filter, b) => where(filter, {time: {first: "first_seen", last: "last_seen"}, bounds: b.bounds[0]});
const SERVER_TEXT = `concat_ws(' ', endpoint, banner, array_to_string(kex_chosen, ' '), array_to_string(hostkeys_chosen, ' '),
  array_to_string(ciphers_chosen, ' '), array_to_string(kex_offered, ' '), array_to_string(hosts, ' '))`;
const CLIENT_TEXT = `concat_ws(' ', host, container_id, exe, comm, banner, array_to_string(kex_chosen, ' '), array_to_string(ciphers_chosen, ' '))`;
const search = (w, text, s) => ({sql: and(w, s ? `${text} ILIKE ?` : null), params: s ? [...w.params, `%${s}%`] : w.params});

export const views = {
  stats: ({filter}, b) => {
    const c = ws(filter, b);
    return [`SELECT count(*)::INTEGER AS servers, count(*) FILTER (offers_pq_kex)::INTEGER AS offering_pq,
            coalesce(sum(pq_handshakes), 0)::DOUBLE / greatest(1, coalesce(sum(handshakes), 0)) AS pq_share
     FROM servers ${c.sql}`, c.params];
  },
  kex: ({filter}, b) => {
    const c = ws(filter, b);
    return [`SELECT kex, count(*)::INTEGER AS servers, bool_or(kex LIKE '%mlkem%' OR kex LIKE '%sntrup%') AS pq
     FROM (SELECT unnest(kex_chosen) AS kex FROM servers ${c.sql}) GROUP BY kex ORDER BY servers DESC, kex`, c.params];
  },
  busiest: ({filter}, b) => {
    const c = ws(filter, b);
    return [`SELECT endpoint, pq_share FROM servers ${c.sql} ORDER BY handshakes DESC, endpoint, server_addr, server_port LIMIT ${TOP}`, c.params];
  },
  servers: ({filter, serverSearch}, b) => {
    const c = search(ws(filter, b), SERVER_TEXT, serverSearch);
    return [`SELECT endpoint, banner, handshakes, pq_handshakes, pq_share, offers_pq_kex,
            array_to_string(kex_chosen, ', ') AS kex_chosen, array_to_string(hostkeys_chosen, ', ') AS hostkeys,
            array_to_string(ciphers_chosen, ', ') AS ciphers, array_to_string(kex_offered, ', ') AS kex_offered,
            array_to_string(hosts, ', ') AS seen_by, last_seen, count(*) OVER ()::INTEGER AS matching
     FROM servers ${c.sql} ORDER BY handshakes DESC, endpoint, server_addr, server_port LIMIT ${LIMIT}`, c.params];
  },
  clients: ({filter, clientSearch}, b) => {
    const c = search(wc(filter, b), CLIENT_TEXT, clientSearch);
    return [`SELECT host, coalesce(container_id, '') AS container, exe, banner, handshakes, servers, pq_share, offers_pq_kex,
            array_to_string(kex_chosen, ', ') AS kex_chosen, array_to_string(ciphers_chosen, ', ') AS ciphers, last_seen,
            count(*) OVER ()::INTEGER AS matching
     FROM clients ${c.sql} ORDER BY handshakes DESC, host, container, exe, comm, banner LIMIT ${LIMIT}`, c.params];
  }
};
