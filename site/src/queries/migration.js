// Migration progress: handshakes per time bucket by key-exchange class, PQ share by host, laggard services.
// Tables built from rpt_migration_hourly by site/derive.ts: summed over services per hour, and per service.
import {and, span, timeBucket, where} from "../components/sql.js";

export const tables = {hourly: "migration_host_hour", services: "migration_services"};

export const boot = {
  bounds: () => `SELECT min(hour) AS min, max(hour) AS max FROM hourly`,
  hosts: () => `SELECT DISTINCT host FROM hourly ORDER BY host`,
  protos: () => `SELECT DISTINCT proto FROM hourly ORDER BY proto`
};

export const defaults = () => ({filter: {host: null}, proto: null});

/** The chart's time bucket for the window the filter selects. */
export function bucket(filter, b) {
  const s = span(filter, b.bounds[0]);
  return timeBucket(s.from, s.to);
}

// Hours in the window (and the protocol).
const hourly = ({filter, proto}, b) => {
  const w = where(filter, {bounds: b.bounds[0]});
  return {sql: and(w, proto ? "proto = ?" : null), params: proto ? [...w.params, proto] : w.params};
};
// Services seen in the window (the per-service table holds totals and first/last hour).
const services = ({filter, proto}, b) => {
  const w = where(filter, {time: {first: "first_hour", last: "last_hour"}, bounds: b.bounds[0]});
  return {sql: and(w, proto ? "proto = ?" : null), params: proto ? [...w.params, proto] : w.params};
};

export const views = {
  perHour: (s, b) => {
    const c = hourly(s, b);
    return [`SELECT t, kex, handshakes FROM (
       SELECT date_trunc('${bucket(s.filter, b)}', hour) AS t, sum(pq_handshakes)::BIGINT AS pq, sum(hybrid_handshakes)::BIGINT AS hybrid,
              sum(classical_handshakes)::BIGINT AS classical, sum(unknown_handshakes)::BIGINT AS unknown
       FROM hourly ${c.sql} GROUP BY t
     ) UNPIVOT (handshakes FOR kex IN (pq, hybrid, classical, unknown)) ORDER BY t, kex`, c.params];
  },
  totals: (s, b) => {
    const c = hourly(s, b);
    return [`SELECT sum(handshakes)::BIGINT AS handshakes, sum(pq_handshakes + hybrid_handshakes)::BIGINT AS pq,
            sum(handshakes - unknown_handshakes)::BIGINT AS known
     FROM hourly ${c.sql}`, c.params];
  },
  serviceCount: (s, b) => {
    const c = services(s, b);
    return [`SELECT count(DISTINCT service)::INTEGER AS n FROM services ${c.sql}`, c.params];
  },
  shareByHost: (s, b) => {
    const c = hourly(s, b);
    return [`SELECT date_trunc('${bucket(s.filter, b)}', hour) AS t, host, sum(pq_handshakes + hybrid_handshakes)::DOUBLE / nullif(sum(handshakes - unknown_handshakes), 0) AS pq_share
     FROM hourly ${c.sql} GROUP BY ALL ORDER BY t, host`, c.params];
  },
  laggards: (s, b) => {
    const c = services(s, b);
    return [`SELECT service, proto, min(host) AS host, sum(handshakes)::BIGINT AS handshakes,
            sum(pq_or_hybrid)::DOUBLE / nullif(sum(known), 0) AS pq_share, max(last_hour) AS last_hour
     FROM services ${c.sql} GROUP BY service, proto ORDER BY pq_share ASC NULLS FIRST, handshakes DESC, service, proto LIMIT 200`, c.params];
  }
};
