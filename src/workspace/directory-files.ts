import { randomBytes } from "node:crypto";
import type { Dirent } from "node:fs";
import { open, readdir, rename, rm, rmdir, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { isObjectName } from "./object-name.js";

/** The file helpers of the directory store: atomic writes, walks that never follow a link, error codes. */

/**
 * Temporary files carry a backslash, which no object name may hold: they never collide with an
 * object and `list` never shows them.
 */
export const TEMP_MARK = ".codebot-partial\\";

const FILE_MODE = 0o600;

/** A new temporary file beside the target (never an object: its name holds a backslash). */
export async function openTemporary(target: string): Promise<{ handle: FileHandle; path: string }> {
  const temporary = path.join(path.dirname(target), `${TEMP_MARK}${randomBytes(8).toString("hex")}`);
  return { handle: await open(temporary, "wx", FILE_MODE), path: temporary };
}

/** Writes the temporary file, then renames it over the target; a failure removes it. */
export async function writeAtomically(target: string, temporary: { handle: FileHandle; path: string }, write: (handle: FileHandle) => Promise<void>): Promise<void> {
  try {
    try {
      await write(temporary.handle);
    } finally {
      await temporary.handle.close();
    }
    await rename(temporary.path, target);
  } catch (error) {
    await rm(temporary.path, { force: true }).catch(() => undefined);
    throw error;
  }
}

/** Regular files under a folder (relative POSIX names that are object names), never through a symlink. */
export async function* walkFiles(folder: string, prefix: string): AsyncGenerator<string> {
  let entries: Dirent[];
  try {
    entries = await readdir(prefix ? path.join(folder, prefix) : folder, { withFileTypes: true });
  } catch (error) {
    if (errorCode(error) === "ENOENT" || errorCode(error) === "ENOTDIR") return; // removed meanwhile
    throw error;
  }
  for (const entry of entries) {
    const name = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) yield* walkFiles(folder, name);
    else if (entry.isFile() && isObjectName(name)) yield name;
  }
}

export async function hasObject(folder: string): Promise<boolean> {
  for await (const _ of walkFiles(folder, "")) return true;
  return false;
}

/** Removes the folders from `from` up to (not including) the workspace's folder while they are empty. */
export async function pruneEmptyParents(folder: string, from: string): Promise<void> {
  for (let current = from; current.startsWith(folder + path.sep); current = path.dirname(current)) {
    try {
      await rmdir(current);
    } catch (error) {
      if (["ENOTEMPTY", "EEXIST", "ENOENT", "EBUSY"].includes(errorCode(error) ?? "")) return;
      throw error;
    }
  }
}

export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

export function ignore(code: string): (error: unknown) => void {
  return (error) => {
    if (errorCode(error) !== code) throw error;
  };
}

export function reason(error: unknown): string {
  return errorCode(error) ?? (error instanceof Error ? error.message : String(error));
}
