// A page's data: the answers the build computed for the page as first opened (precomputed.json), and DuckDB-WASM
// over the page's tables for every other query (a host, a time range, a search). The page draws from the
// precomputed answers without waiting for the engine; the engine starts once the page has settled (or as
// soon as a reader touches an input, or a query has no precomputed answer), so filters answer quickly later.
//
// spec: the page's queries module (src/queries/<page>.js): {tables, boot, views, defaults}.
//   boot:  name → (b) => sql | [sql, params], run in order when the page opens (b: the results so far);
//   views: name → (state, b) => sql | [sql, params], run by the page's cells with the inputs' values;
//   defaults(b): the inputs' values when the page opens (what the build precomputes).
// Open a page with ?live to send every query to DuckDB-WASM (the tests compare the two).
import {answerKey, decodeResult, toQuery} from "./answers.js";
import {rows} from "./util.js";

const LIVE = new URLSearchParams(location.search).has("live");

export async function pageData(spec, answersFile, files) {
  const have = Object.keys(files).sort().join(", ");
  const want = Object.keys(spec.tables).sort().join(", ");
  if (have !== want) throw new Error(`page tables (${have}) do not match its queries module (${want})`);
  performance.mark("page:start");
  const answers = LIVE ? {} : (await answersFile.json()).results;

  let engine;
  // Why the engine started is left as a mark (engine:start:miss, :settled, :input or :live) for the tests and bench.
  const start = (why) => (engine ??= (performance.mark(`engine:start:${why}`), import("./engine.js").then((m) => m.openEngine(files))));
  // aria-busy on the page while DuckDB-WASM is answering (assistive tech, the tests and the bench read it).
  const main = document.querySelector("#observablehq-main") ?? document.body;
  let pending = 0;
  const busy = (d) => ((pending += d) > 0 ? main.setAttribute("aria-busy", "true") : main.removeAttribute("aria-busy"));
  const run = async ([sql, params]) => {
    const stored = answers[answerKey(sql, params)];
    if (stored) return decodeResult(stored);
    busy(+1);
    try {
      const db = await start("miss");
      return rows(await db.query(sql, params));
    } finally {
      busy(-1);
    }
  };

  const boot = {};
  for (const [name, q] of Object.entries(spec.boot)) boot[name] = await run(toQuery(q(boot)));
  performance.mark("page:boot");
  if (LIVE) start("live");
  else startWhenSettled(start);

  return {
    boot,
    /** Rows of the page's view query `name` for the inputs' values `state`. */
    query: (name, state) => run(toQuery(spec.views[name](state, boot))),
    /** True once DuckDB-WASM has been asked to start. */
    get engineStarted() {
      return engine !== undefined;
    }
  };
}

// Once no cell is still loading (the page is drawn) and the browser is idle, or at the first touch of an input.
function startWhenSettled(start) {
  const main = document.querySelector("#observablehq-main") ?? document.body;
  const input = () => start("input");
  main.addEventListener("focusin", input, {once: true});
  main.addEventListener("pointerdown", input, {once: true});
  const idle = window.requestIdleCallback ?? ((f) => setTimeout(f, 50));
  const check = () => (main.querySelector("observablehq-loading") ? setTimeout(check, 100) : idle(() => start("settled"), {timeout: 2000}));
  setTimeout(check, 100);
}
