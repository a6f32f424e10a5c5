import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path/posix";
import type { Readable } from "node:stream";
import type Docker from "dockerode";
import tar from "tar-stream";
import { DATA_DIR, SANDBOX_UID } from "./container-spec.js";
import { safeFilename } from "./safe-filename.js";
import { SandboxError } from "./sandbox-error.js";

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

/**
 * Puts files into /mnt/data through the Docker API's archive upload, so it works the same against a
 * remote engine. Names are made safe; a file over maxBytes is refused before anything is sent.
 */
export async function uploadFiles(container: Docker.Container, sources: UploadSource[], maxBytes: number): Promise<UploadedFile[]> {
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
  const pack = tar.pack();
  const upload = container.putArchive(pack as unknown as NodeJS.ReadableStream, { path: DATA_DIR });
  for (const [i, source] of sources.entries()) {
    const header = { name: names[i] ?? "file", size: sizes[i] ?? 0, mode: 0o644, uid: SANDBOX_UID, gid: SANDBOX_UID, mtime: new Date() };
    await new Promise<void>((resolve, reject) => {
      const done = (error?: Error | null) => (error ? reject(error) : resolve());
      if ("data" in source) pack.entry(header, source.data, done);
      else createReadStream(source.path).on("error", reject).pipe(pack.entry(header, done));
    });
  }
  pack.finalize();
  await upload;
  return names.map((name, i) => ({ path: `${DATA_DIR}/${name}`, size: sizes[i] ?? 0 }));
}

/** The absolute path of a file under /mnt/data, refusing anything that would leave it. */
export function dataPath(file: string): string {
  const resolved = path.resolve(DATA_DIR, file);
  if (!resolved.startsWith(`${DATA_DIR}/`)) throw new SandboxError("FILE_NOT_FOUND", `${file} is not under ${DATA_DIR}.`);
  return resolved;
}

/** Reads one file from /mnt/data through the archive API; refuses one over maxBytes. */
export async function downloadFile(container: Docker.Container, file: string, maxBytes: number): Promise<Buffer> {
  const target = dataPath(file);
  let archive: Readable;
  try {
    archive = (await container.getArchive({ path: target })) as Readable;
  } catch (error) {
    throw new SandboxError("FILE_NOT_FOUND", `${target} does not exist in the session.`, { cause: error });
  }
  const extract = tar.extract();
  archive.pipe(extract);
  for await (const entry of extract) {
    if (entry.header.type !== "file") {
      entry.resume();
      continue;
    }
    const size = entry.header.size ?? 0;
    if (size > maxBytes) {
      archive.destroy();
      throw new SandboxError("FILE_TOO_LARGE", `${target} is ${megabytes(size)}, over the ${megabytes(maxBytes)} download limit.`);
    }
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    archive.destroy();
    return Buffer.concat(chunks);
  }
  throw new SandboxError("FILE_NOT_FOUND", `${target} is not a regular file.`);
}
