import { once } from "node:events";
import { pipeline, type Readable } from "node:stream";
import type Docker from "dockerode";
import tar, { type Header as TarHeader } from "tar-stream";
import { SANDBOX_UID } from "./container-spec.js";
import { ExactLength, type FileSource } from "../file-streams.js";
import { SandboxError } from "../sandbox-error.js";
import type { WriteFilesOptions } from "../sandbox-handle.js";
import { DATA_DIR, relativeSegments } from "../sandbox-paths.js";

/** What the archive being uploaded may hold in memory before its writer waits for the engine. */
const PACK_BUFFER_BYTES = 1 << 20;

/** The header's times: the tar field holds whole seconds, a PAX record the milliseconds (the engine applies both). */
function times(mtimeMs: number | undefined): Pick<TarHeader, "mtime" | "pax"> {
  const at = mtimeMs ?? Date.now();
  return { mtime: new Date(at), pax: { mtime: (at / 1000).toFixed(3) } };
}

/** Writes a body into a tar entry, waiting whenever the archive's reader (the engine) is behind. */
async function copyInto(body: Readable, entry: NodeJS.WritableStream & { once: NodeJS.EventEmitter["once"] }): Promise<void> {
  for await (const chunk of body) {
    if (!entry.write(chunk as Buffer)) await once(entry, "drain");
  }
  entry.end();
}

/**
 * Writes files at paths relative to /mnt/data (folders included: "a/b/c.csv") through one streamed
 * archive upload, owned by the sandbox's user like the user's own. Bodies are opened one at a time,
 * when their turn comes, and go to the engine as it takes them: the worker holds a few chunks,
 * whatever the files weigh. Each body must be exactly its size (else the upload fails). The tar
 * carries each folder on the way, so none is created as root, and one the code replaced with a link
 * is replaced in turn rather than followed.
 */
export async function writeArchive(container: Docker.Container, files: Iterable<FileSource> | AsyncIterable<FileSource>, options: WriteFilesOptions): Promise<{ files: number; bytes: number }> {
  const { mode = 0o644, dirMode = 0o755 } = options;
  // A 1 MiB buffer: bodies come in 64 KiB-1 MiB chunks, and a smaller one would stop the writer at each.
  const pack = tar.pack({ highWaterMark: PACK_BUFFER_BYTES });
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new SandboxError("TRANSFER_TIMEOUT", `Writing files into the sandbox took longer than ${Math.round(options.timeoutMs / 1000)}s.`)), options.timeoutMs);
  const upload = container.putArchive(pack as unknown as NodeJS.ReadableStream, { path: DATA_DIR, abortSignal: abort.signal });
  const folders = new Set<string>();
  let count = 0;
  let bytes = 0;
  const owner = { uid: SANDBOX_UID, gid: SANDBOX_UID };
  const writing = (async () => {
    for await (const file of files) {
      abort.signal.throwIfAborted();
      const segments = relativeSegments(file.path);
      for (let depth = 1; depth < segments.length; depth++) {
        const folder = segments.slice(0, depth).join("/");
        if (folders.has(folder)) continue;
        folders.add(folder);
        await new Promise<void>((resolve, reject) => pack.entry({ ...owner, ...times(undefined), name: `${folder}/`, type: "directory", mode: dirMode }, (error) => (error ? reject(error) : resolve())));
      }
      const body = await file.open();
      let written: (error?: Error | null) => void = () => undefined;
      const finished = new Promise<void>((resolve, reject) => (written = (error) => (error ? reject(error) : resolve())));
      const entry = pack.entry({ ...owner, ...times(file.mtimeMs), name: file.path, size: file.size, mode }, written);
      // pipeline: a body that fails (a store that went away) fails the checked stream, and so the upload.
      const checked = pipeline(body, new ExactLength(file.size, file.path), () => undefined);
      await Promise.all([copyInto(checked, entry as never), finished]);
      count++;
      bytes += file.size;
    }
    pack.finalize();
  })();
  writing.catch(() => undefined); // awaited below; a tar destroyed after a refused upload fails it late
  try {
    // The engine refusing the upload (the sandbox is gone, its disk is full) ends the tar's writing too.
    await Promise.all([
      upload.catch((error: unknown) => {
        pack.destroy();
        throw abort.signal.aborted ? abort.signal.reason : error;
      }),
      writing.catch((error: unknown) => {
        pack.destroy();
        abort.abort(error);
        throw abort.signal.reason ?? error;
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
  return { files: count, bytes };
}
