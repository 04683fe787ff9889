// The one error a damaged or unsupported capture file produces: it names the file and the byte offset
// where reading stopped, so a user can look at the spot (xxd -s OFFSET) and knows what was kept.
export class CaptureFormatError extends Error {
  override readonly name = "CaptureFormatError";
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`${file}: ${reason} at byte ${offset}`);
  }
}
