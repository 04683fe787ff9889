// Starts the ingest worker from its TypeScript source (when the CLI itself runs under tsx, not compiled):
// tsx's loader registered in this worker thread, then the worker module.
import { register } from "tsx/esm/api";

register();
await import("./ingest-worker.ts");
