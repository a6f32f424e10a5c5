import path from "node:path/posix";
import type { Readable } from "node:stream";
import type Docker from "dockerode";
import tar from "tar-stream";
import { DATA_DIR } from "../sandbox/container-spec.js";
import type { DataFile } from "../sandbox/file-transfer.js";

/** The bookkeeping folder of /mnt/data (saved state): never a user's file, never kept as one. */
export const HIDDEN_DIR = ".codebot";

export function isHidden(relativePath: string): boolean {
  return relativePath === HIDDEN_DIR || relativePath.startsWith(`${HIDDEN_DIR}/`);
}

/**
 * The regular files under /mnt/data but the hidden folder (or only those named in `only`), read
 * through one archive download: a full sync, or many changed files at once. Stops at maxBytes in
 * all (what didn't fit is returned in `left`); links and special files are never taken.
 */
export async function readDataTree(container: Docker.Container, maxFileBytes: number, maxBytes: number, only?: Set<string>): Promise<{ files: DataFile[]; left: string[] }> {
  const archive = (await container.getArchive({ path: `${DATA_DIR}/.` })) as Readable;
  const extract = tar.extract();
  archive.pipe(extract);
  const files: DataFile[] = [];
  const left: string[] = [];
  let room = maxBytes;
  for await (const entry of extract) {
    const relative = path.normalize(entry.header.name).replace(/^(\.\/)+/, "").replace(/^\.$/, "");
    const size = entry.header.size ?? 0;
    if (entry.header.type !== "file" || !relative || relative.startsWith("../") || isHidden(relative) || (only && !only.has(relative))) {
      entry.resume();
      continue;
    }
    if (size > maxFileBytes || size > room) {
      left.push(relative);
      entry.resume();
      continue;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    room -= size;
    files.push({ path: relative, data: Buffer.concat(chunks) });
  }
  return { files, left };
}
