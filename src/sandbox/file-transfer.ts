import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path/posix";
import { bufferSource, type FileSource } from "./file-streams.js";
import { safeFilename } from "./safe-filename.js";
import { SandboxError } from "./sandbox-error.js";
import { DATA_DIR } from "./sandbox-paths.js";

/** A file to put into a session: its name as the user gave it, and where its bytes are. */
export type UploadSource = { name: string; data: Buffer } | { name: string; path: string };

export interface UploadedFile {
  path: string;
  size: number;
}

export function megabytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(bytes < 10 * 1024 * 1024 ? 1 : 0)} MB`;
}

async function sizeOf(source: UploadSource): Promise<number> {
  if ("data" in source) return source.data.length;
  const info = await stat(source.path).catch((error: NodeJS.ErrnoException) => {
    throw new SandboxError("FILE_NOT_FOUND", `Cannot read ${source.path}: ${error.code ?? error.message}`);
  });
  if (!info.isFile()) throw new SandboxError("FILE_NOT_FOUND", `${source.path} is not a regular file.`);
  return info.size;
}

/** Distinct safe names for one batch: a repeated name gets " (2)", " (3)" before its extension. */
function distinctNames(names: string[]): string[] {
  const seen = new Set<string>();
  return names.map((raw) => {
    const name = safeFilename(raw);
    const extension = path.extname(name);
    let candidate = name;
    for (let n = 2; seen.has(candidate); n++) candidate = `${name.slice(0, name.length - extension.length)} (${n})${extension}`;
    seen.add(candidate);
    return candidate;
  });
}

/** What an upload puts where: each file under a safe, distinct name at the top of /mnt/data. */
export interface UploadPlan {
  files: FileSource[];
  uploaded: UploadedFile[];
  bytes: number;
}

/**
 * An upload's files as sources for a session's putFiles: names made safe and distinct, a file over
 * maxBytes refused before anything is sent, a file on disk opened only when its turn comes.
 */
export async function planUpload(sources: UploadSource[], maxBytes: number): Promise<UploadPlan> {
  const sizes = await Promise.all(sources.map(sizeOf));
  sources.forEach((source, i) => {
    const size = sizes[i] ?? 0;
    if (size > maxBytes) {
      throw new SandboxError(
        "FILE_TOO_LARGE",
        `"${safeFilename(source.name)}" is ${megabytes(size)}, over the ${megabytes(maxBytes)} limit for one file.`,
      );
    }
  });
  const names = distinctNames(sources.map((source) => source.name));
  const files = sources.map((source, i): FileSource => {
    const name = names[i] ?? "file";
    return "data" in source ? bufferSource(name, source.data) : { path: name, size: sizes[i] ?? 0, open: async () => createReadStream(source.path) };
  });
  return {
    files,
    uploaded: names.map((name, i) => ({ path: `${DATA_DIR}/${name}`, size: sizes[i] ?? 0 })),
    bytes: sizes.reduce((sum, size) => sum + size, 0),
  };
}
