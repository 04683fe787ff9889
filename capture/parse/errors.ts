// The one exception type a parser may throw: malformed bytes, with where it happened.
export class ParseError extends Error {
  readonly protocol: string;
  readonly offset: number;
  constructor(protocol: string, offset: number, message: string) {
    super(`${protocol}: ${message} (at byte ${offset})`);
    this.name = "ParseError";
    this.protocol = protocol;
    this.offset = offset;
  }
}

// Bytes ran out before a structure ended: not malformed, just not all there (yet).
// Internal to the parsers: callers turn it into complete=false.
export class Truncated extends Error {
  readonly protocol: string;
  readonly offset: number;
  constructor(protocol: string, offset: number) {
    super(`${protocol}: truncated at byte ${offset}`);
    this.name = "Truncated";
    this.protocol = protocol;
    this.offset = offset;
  }
}

// Run fn; anything that is not already a ParseError/Truncated becomes a ParseError, so nothing else escapes.
export function guard<T>(protocol: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ParseError || e instanceof Truncated) throw e;
    const msg = e instanceof Error ? e.message : String(e);
    throw new ParseError(protocol, 0, `internal: ${msg}`);
  }
}
