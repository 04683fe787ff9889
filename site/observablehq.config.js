// Observable Framework config for the cryptoscope report. Built by `cryptoscope site build`
// (site/build.ts), which stages src/ with the marts copied in and fills the npm cache first.
// Everything here keeps the build and the pages off the network (see ../shared/notes/site-offline.md):
// no global web-font stylesheet, no DuckDB extensions to download, no search index, .html links.
export default {
  title: "cryptoscope",
  root: "src",
  output: process.env.CRYPTOSCOPE_SITE_OUTPUT ?? "dist",
  pages: [
    {name: "Overview", path: "/index"},
    {name: "Migration progress", path: "/migration"},
    {name: "Algorithms", path: "/algorithms"},
    {name: "Flame graph", path: "/flame"},
    {name: "Certificates", path: "/certificates"},
    {name: "SSH", path: "/ssh"},
    {name: "Endpoints and clients", path: "/endpoints"},
    {name: "Findings", path: "/findings"}
  ],
  theme: ["air", "near-midnight", "wide"],
  globalStylesheets: [],
  duckdb: {extensions: {json: null, parquet: null}},
  search: false,
  preserveExtension: true,
  // A data: icon, so browsers do not ask the server for /favicon.ico.
  head: `<link rel="icon" href="data:,">`,
  toc: false,
  pager: false,
  footer: "cryptoscope — a live cryptographic inventory for the post-quantum migration. Data: the marts of <code>cryptoscope models build</code>."
};
