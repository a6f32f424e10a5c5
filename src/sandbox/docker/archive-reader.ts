import path from "node:path/posix";
import { Readable } from "node:stream";
import type Docker from "dockerode";
import tar from "tar-stream";
import { DATA_DIR } from "../sandbox-paths.js";
import type { FileRead, TreeEntry } from "../file-streams.js";
import { SandboxError } from "../sandbox-error.js";

/**
 * Reads one listed file of a sandbox through a streamed archive download and hands it to `each`
 * as it comes; false when it is not there. The archive is hostile: its first entry must be that
 * very file, a regular file of exactly the listed size (what the budget was planned with), else
 * the download is aborted at the header, before a byte of it is read; so is it when the signal
 * fires (the caller's timeout). Nothing is buffered here beyond the stream's own chunks.
 */
export async function readArchivedFile(container: Docker.Container, file: TreeEntry, each: (file: FileRead) => Promise<void>, signal: AbortSignal): Promise<boolean> {
  signal.throwIfAborted();
  let archive: Readable;
  try {
    archive = (await container.getArchive({ path: `${DATA_DIR}/${file.path}`, abortSignal: signal })) as Readable;
  } catch (error) {
    signal.throwIfAborted();
    if ((error as { statusCode?: number }).statusCode === 404) return false;
    throw new SandboxError("FILE_NOT_FOUND", `${file.path} could not be read from the sandbox.`, { cause: error });
  }
  const extract = tar.extract();
  const stop = () => {
    archive.destroy();
    extract.destroy();
  };
  signal.addEventListener("abort", stop, { once: true });
  archive.on("error", (error) => extract.destroy(error));
  archive.pipe(extract as unknown as NodeJS.WritableStream);
  try {
    for await (const entry of extract) {
      const { header } = entry;
      if (header.type !== "file" || header.name !== path.basename(file.path)) {
        throw new SandboxError("FILE_NOT_FOUND", `${file.path} is no longer a regular file (the archive held a ${header.type}).`);
      }
      if (header.size !== file.size) throw new SandboxError("FILE_TOO_LARGE", `${file.path} changed size while it was read (${header.size} bytes, listed at ${file.size}).`);
      const body = Readable.from(entry as AsyncIterable<Buffer>, { objectMode: false });
      await each({ ...file, body });
      // A consumer that stopped early: the rest of the entry (within its listed size) is read past.
      if (!body.readableEnded && !body.destroyed) for await (const _ of body) void _;
      return true;
    }
    throw new SandboxError("FILE_NOT_FOUND", `${file.path} came as an empty archive.`);
  } catch (error) {
    throw signal.aborted ? signal.reason : error;
  } finally {
    signal.removeEventListener("abort", stop);
    stop();
  }
}
