import { WorkspaceStoreError } from "./workspace-store-error.js";

export const MAX_OBJECT_NAME_BYTES = 1024;
export const MAX_SEGMENT_BYTES = 255;

/**
 * Control characters (C0, DEL, C1), line and paragraph separators, and lone surrogates (which have no
 * UTF-8 form, so the stored name would differ from the one asked for).
 */
const FORBIDDEN = /[\p{Cc}\p{Zl}\p{Zp}\p{Cs}]/u;

/**
 * Why a name can't be an object name, or undefined when it can. Names come from file paths that a
 * sandbox reports, so they are hostile: a relative POSIX path of non-empty segments, none `.` or `..`,
 * no backslash or control character, each segment at most 255 bytes of UTF-8 and the whole at most 1024.
 */
export function objectNameProblem(name: unknown): string | undefined {
  if (typeof name !== "string" || name === "") return "an object name is a non-empty string";
  if (FORBIDDEN.test(name)) return "an object name has no control characters";
  if (name.includes("\\")) return "an object name has no backslash";
  if (name.startsWith("/")) return "an object name is relative (no leading /)";
  if (Buffer.byteLength(name, "utf8") > MAX_OBJECT_NAME_BYTES) return `an object name is at most ${MAX_OBJECT_NAME_BYTES} bytes`;
  for (const segment of name.split("/")) {
    if (segment === "") return "an object name has no empty segments (// or a trailing /)";
    if (segment === "." || segment === "..") return "an object name has no . or .. segments";
    if (Buffer.byteLength(segment, "utf8") > MAX_SEGMENT_BYTES) return `each segment of an object name is at most ${MAX_SEGMENT_BYTES} bytes`;
  }
  return undefined;
}

export function isObjectName(name: unknown): name is string {
  return objectNameProblem(name) === undefined;
}

/** The name, or BAD_NAME with the reason (the name itself is not echoed: it may be anything). */
export function checkObjectName(name: string): string {
  const problem = objectNameProblem(name);
  if (problem) throw new WorkspaceStoreError("BAD_NAME", problem);
  return name;
}

/** The order of `list`: by UTF-8 bytes, as S3 lists keys. */
export function compareObjectNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}
