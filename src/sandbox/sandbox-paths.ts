import path from "node:path/posix";
import { SandboxError } from "./sandbox-error.js";

/** The user's folder in every sandbox, whatever runs it: files in and out, the working directory of the code. */
export const DATA_DIR = "/mnt/data";

/** The absolute path of a file under /mnt/data, refusing anything that would leave it. */
export function dataPath(file: string): string {
  const resolved = path.resolve(DATA_DIR, file);
  if (!resolved.startsWith(`${DATA_DIR}/`)) throw new SandboxError("FILE_NOT_FOUND", `${file} is not under ${DATA_DIR}.`);
  return resolved;
}

/** The segments of a path relative to /mnt/data; absolute paths, "..", empty and "." segments are refused. */
export function relativeSegments(relativePath: string): string[] {
  const segments = relativePath.split("/");
  if (relativePath.startsWith("/") || relativePath.includes("\0") || segments.some((segment) => segment === "" || segment === "." || segment === "..")) {
    throw new SandboxError("FILE_NOT_FOUND", `${relativePath} is not a relative path under ${DATA_DIR}.`);
  }
  return segments;
}
