// Rebuilds crypto-auditing context trees from library_events rows, in the JSON shape crau-query prints:
// [{context, origin, start, end, events: {key: value, ...}, spans: [...same shape...]}].
// A context is identified by (pid, context word): libraries use object addresses, which are reused after
// free, so a new_context for a known id starts a new node.

export interface CrauEventRow {
  ts: bigint;            // µs since the epoch
  pid: number | null;
  event: string;         // new_context | word_data | string_data | blob_data
  key: string | null;
  value_int: bigint | number | null;
  value_str: string | null;
  value_blob: Uint8Array | null;
  context: bigint | number;
  parent_context: bigint | number | null;
  exe?: string | null;
}

export interface CrauContext {
  context: string;       // hex of pid (8 bytes) and the context word (8 bytes)
  origin: string;        // hex of the executable path that emitted it (crau-query: hex bytes of the origin)
  start: number;         // µs since the epoch of the first event
  end: number;           // µs since the epoch of the last event (of this context and its spans)
  events: Record<string, string | number>;
  spans: CrauContext[];
}

function hex16(pid: number, ctx: bigint): string {
  return BigInt(pid).toString(16).padStart(16, "0") + BigInt.asUintN(64, ctx).toString(16).padStart(16, "0");
}

/** Time order, with a context's creation before its data and a parent before its children when they share a
 * microsecond: the lake keeps µs timestamps and clusters rows by event, so emission order within one µs is lost. */
export function causalOrder(rows: Iterable<CrauEventRow>): CrauEventRow[] {
  const all = [...rows];
  const depth = new Map<CrauEventRow, number>();
  const byTs = new Map<bigint, CrauEventRow[]>();
  for (const r of all) if (r.event === "new_context") (byTs.get(r.ts) ?? byTs.set(r.ts, []).get(r.ts)!).push(r);
  for (const group of byTs.values()) {
    const ids = new Map(group.map((r) => [`${r.pid}:${BigInt(r.context)}`, r]));
    const d = (r: CrauEventRow, seen = 0): number => {
      if (depth.has(r)) return depth.get(r)!;
      const p = r.parent_context != null ? ids.get(`${r.pid}:${BigInt(r.parent_context)}`) : undefined;
      const v = p && p !== r && seen < group.length ? d(p, seen + 1) + 1 : 0;
      depth.set(r, v);
      return v;
    };
    group.forEach((r) => d(r));
  }
  return all
    .map((r, i) => ({ r, i }))
    .sort((a, b) => (a.r.ts < b.r.ts ? -1 : a.r.ts > b.r.ts ? 1 : 0)
      || (a.r.event === "new_context" ? 0 : 1) - (b.r.event === "new_context" ? 0 : 1)
      || (depth.get(a.r) ?? 0) - (depth.get(b.r) ?? 0)
      || a.i - b.i)
    .map((x) => x.r);
}

export function buildContextTrees(input: Iterable<CrauEventRow>): CrauContext[] {
  const rows = causalOrder(input);
  const roots: CrauContext[] = [];
  const live = new Map<string, CrauContext>(); // pid:context → node in progress
  const nodeFor = (r: CrauEventRow, create: boolean): CrauContext | null => {
    const pid = r.pid ?? 0, ctx = BigInt(r.context);
    const k = `${pid}:${ctx}`;
    let n = live.get(k);
    if (!n && create) {
      n = { context: hex16(pid, ctx), origin: Buffer.from(r.exe ?? "").toString("hex"), start: Number(r.ts), end: Number(r.ts), events: {}, spans: [] };
      live.set(k, n);
      roots.push(n);
    }
    return n ?? null;
  };
  for (const r of rows) {
    if (r.event === "new_context") {
      const pid = r.pid ?? 0;
      live.delete(`${pid}:${BigInt(r.context)}`); // a reused id: a new context
      const n = nodeFor(r, true)!;
      const parent = r.parent_context != null && BigInt(r.parent_context) !== 0n ? live.get(`${pid}:${BigInt(r.parent_context)}`) : undefined;
      if (parent && parent !== n) {
        roots.splice(roots.lastIndexOf(n), 1);
        parent.spans.push(n);
      }
      continue;
    }
    // data for a context never announced with new_context: crau-query starts a root for it too
    const n = nodeFor(r, true)!;
    const t = Number(r.ts);
    if (t < n.start) n.start = t;
    if (t > n.end) n.end = t;
    if (!r.key) continue;
    if (r.event === "word_data" || (r.event === "blob_data" && r.value_blob == null)) n.events[r.key] = Number(r.value_int ?? 0);
    else if (r.event === "string_data") n.events[r.key] = r.value_str ?? "";
    else if (r.event === "blob_data") n.events[r.key] = Buffer.from(r.value_blob ?? new Uint8Array()).toString("hex");
  }
  // a parent's end covers its spans
  const fix = (n: CrauContext): number => {
    for (const s of n.spans) n.end = Math.max(n.end, fix(s));
    return n.end;
  };
  roots.forEach(fix);
  return roots;
}
