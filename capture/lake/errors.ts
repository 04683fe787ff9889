// One clear line for everything that can go wrong on the lake's disk.

/** Disk full, unwritable lake, bad row, closed writer...: one line a user understands. */
export class LakeError extends Error {
  override name = "LakeError";
}

const REASONS: [RegExp, string][] = [
  [/ENOSPC|No space left on device/i, "no space left on device"],
  [/EDQUOT|quota exceeded/i, "disk quota exceeded"],
  [/EROFS|Read-only file system/i, "read-only file system"],
  [/EACCES|EPERM|Permission denied|Operation not permitted/i, "permission denied"],
  [/ENOTDIR|Not a directory/i, "a path component is not a directory"],
  [/EISDIR/i, "a file name is taken by a directory"],
  [/EEXIST/i, "a directory name is taken by a file"],
  [/EIO|Input\/output error/i, "input/output error"],
];

/** Names the cause of a file-system failure (Node errno codes or DuckDB IO error text). */
export function describeIoFailure(err: unknown): string {
  const e = err as { code?: string; message?: string };
  const text = `${e?.code ?? ""} ${e?.message ?? String(err)}`;
  for (const [re, reason] of REASONS) if (re.test(text)) return reason;
  return (e?.message ?? String(err)).split("\n")[0];
}
