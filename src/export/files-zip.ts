import { ZipFile } from "yazl";
import type { SandboxFile } from "../core/execution-result.js";
import { DATA_DIR } from "../sandbox/sandbox-paths.js";
import { safeFilename } from "../sandbox/safe-filename.js";
import { reasonForPeople } from "../sandbox/sandbox-error.js";
import type { Sandboxes } from "../sandbox/sandboxes.js";

/** Entries one zip holds at most (the sandbox lists up to a few thousand files). */
export const MAX_ZIP_ENTRIES = 1000;
const MAX_ENTRY_CHARS = 1000;

export interface SessionZip {
  /** The zip, absent when there was nothing to put in it. */
  data?: Buffer;
  /** The names inside the zip, in order. */
  entries: string[];
  /** Files left out, "name (why)" each. */
  skipped: string[];
}

/**
 * A session file's path as a name inside the zip. The path is the sandbox's (any file name code
 * chose), and unzip tools write entries where their names say: so it is relative to /mnt/data,
 * with no empty, "." or ".." segment, no backslash, drive letter, control or reserved character,
 * and each segment cleaned like an uploaded file's name. Undefined when nothing is left of it.
 */
export function zipEntryName(path: string): string | undefined {
  const relative = path.startsWith(`${DATA_DIR}/`) ? path.slice(DATA_DIR.length + 1) : path;
  const segments = relative
    .split(/[\\/]+/)
    .filter((segment) => segment && segment !== "." && segment !== "..")
    .map((segment) => safeFilename(segment.replace(/[\\/]/g, "_")));
  const name = segments.join("/");
  return name && name.length <= MAX_ENTRY_CHARS ? name : undefined;
}

/** The names a zip holds so far, case aside (Windows and macOS unzip so): files and the folders they are in. */
class ZipNames {
  private readonly files = new Set<string>();
  private readonly folders = new Set<string>();

  /** name, else "name (2).ext", "name (3).ext"…: the first that is neither taken nor a clash of file and folder. */
  claim(name: string): string {
    const dot = name.lastIndexOf(".");
    const [stem, extension] = dot > name.lastIndexOf("/") + 1 ? [name.slice(0, dot), name.slice(dot)] : [name, ""];
    for (let n = 1; ; n++) {
      const candidate = n === 1 ? name : `${stem} (${n})${extension}`;
      const key = candidate.toLowerCase();
      const parents = key.split("/").slice(0, -1).map((_, i, all) => all.slice(0, i + 1).join("/"));
      if (this.files.has(key) || this.folders.has(key) || parents.some((parent) => this.files.has(parent))) continue;
      this.files.add(key);
      for (const parent of parents) this.folders.add(parent);
      return candidate;
    }
  }
}

function megabytes(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MB`;
}

function collect(zip: ZipFile): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on("data", (chunk: Buffer) => chunks.push(chunk));
    zip.outputStream.on("error", reject);
    zip.outputStream.on("end", () => resolve(Buffer.concat(chunks)));
  });
}

/**
 * The session's files (as the sandbox lists them: regular files only, never links) as one zip, at
 * most maxTurnFileBytes of them in all: what would go past it is left out and said. Each download
 * is cut off at the room left, so a file that grows meanwhile can't make the worker buffer more.
 */
export async function zipSessionFiles(sandboxes: Sandboxes, sessionId: string): Promise<SessionZip> {
  const files: SandboxFile[] = await sandboxes.listFiles(sessionId);
  const limit = sandboxes.limits.maxTurnFileBytes;
  let room = limit;
  const zip = new ZipFile();
  const entries: string[] = [];
  const skipped: string[] = [];
  const names = new ZipNames();
  for (const file of files) {
    const name = zipEntryName(file.path);
    const shown = name ?? file.path;
    if (!name) skipped.push(`${shown} (its name can't be used in a zip)`);
    else if (entries.length >= MAX_ZIP_ENTRIES) skipped.push(`${shown} (at most ${MAX_ZIP_ENTRIES} files go in one zip)`);
    else if (file.size > room) skipped.push(`${shown} (${megabytes(file.size)}: over the ${megabytes(limit)} sent at once)`);
    else {
      try {
        const data = await sandboxes.download(sessionId, file.path, room);
        room -= data.length;
        const entry = names.claim(name);
        zip.addBuffer(data, entry, { mode: 0o100644 });
        entries.push(entry);
      } catch (error) {
        skipped.push(`${shown} (${reasonForPeople(error, "it could not be read from the session")})`);
      }
    }
  }
  if (!entries.length) return { entries, skipped };
  const done = collect(zip);
  zip.end();
  return { data: await done, entries, skipped };
}
