import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ExactLength, type FileRead, type FileSource, type TreeEntry } from "../file-streams.js";
import type { RunnerConnection } from "../runner-connection.js";
import { readAnswerSchema, writeAnswerSchema } from "../runner-protocol.js";
import { SandboxError } from "../sandbox-error.js";
import type { WriteFilesOptions } from "../sandbox-handle.js";
import { DATA_DIR, relativeSegments } from "../sandbox-paths.js";

/** Bytes of a file per request, each way: base64 of it fits the supervisor's and the host's frame limits with room to spare. */
export const FILE_CHUNK_BYTES = 512 * 1024;
const REQUEST_TIMEOUT_MS = 60_000;

function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/**
 * Streams one listed file of /mnt/data out through the supervisor's "read" requests, a chunk at a
 * time as the body is read: exactly file.size bytes of a regular file of that path, else refused
 * (FILE_TOO_LARGE when its size changed, FILE_NOT_FOUND when it is no longer a regular file) before
 * a byte is handed on; false when it is not there. Every answer is checked against what was asked.
 */
export async function readFileOver(connection: RunnerConnection, file: TreeEntry, each: (file: FileRead) => Promise<void>, signal: AbortSignal, chunkBytes = FILE_CHUNK_BYTES): Promise<boolean> {
  const ask = async (offset: number) => {
    const answer = await untilAborted(connection.request({ op: "read", path: file.path, offset, length: chunkBytes, maxBytes: file.size }, readAnswerSchema(chunkBytes), REQUEST_TIMEOUT_MS), signal);
    if (answer.problem === "not-found") return undefined;
    if (answer.problem === "not-regular") throw new SandboxError("FILE_NOT_FOUND", `${DATA_DIR}/${file.path} is no longer a regular file.`);
    if (answer.problem === "too-large" || answer.size !== file.size) throw new SandboxError("FILE_TOO_LARGE", `${DATA_DIR}/${file.path} changed size while it was read (listed at ${file.size} bytes).`);
    const data = Buffer.from(answer.data ?? "", "base64");
    const expected = Math.min(chunkBytes, file.size - offset);
    if (answer.offset !== offset || data.length !== expected) throw new SandboxError("RUNNER_PROTOCOL", "The sandbox answered a read with the wrong part of the file.");
    return data;
  };
  const first = await ask(0);
  if (first === undefined) return false;
  async function* chunks(): AsyncGenerator<Buffer> {
    yield first!;
    for (let offset = first!.length; offset < file.size; ) {
      const data = await ask(offset);
      if (data === undefined) throw new SandboxError("FILE_NOT_FOUND", `${DATA_DIR}/${file.path} was removed while it was read.`);
      yield data;
      offset += data.length;
    }
  }
  await each({ ...file, body: Readable.from(chunks(), { objectMode: false }) });
  return true;
}

/** Cuts a stream into chunks of exactly `size` bytes (the last one shorter). */
async function* rechunked(body: AsyncIterable<Buffer>, size: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let held = 0;
  for await (const chunk of body) {
    pending.push(chunk);
    held += chunk.length;
    while (held >= size) {
      const joined = Buffer.concat(pending);
      yield joined.subarray(0, size);
      pending = [joined.subarray(size)];
      held -= size;
    }
  }
  if (held > 0) yield Buffer.concat(pending);
}

const PROBLEMS: Record<string, (path: string) => SandboxError> = {
  "no-space": (path) => new SandboxError("FILE_TOO_LARGE", `The sandbox's disk is full: ${path} does not fit.`),
  "too-large": (path) => new SandboxError("FILE_TOO_LARGE", `${path} is longer than it was said to be.`),
  "is-directory": (path) => new SandboxError("FILE_NOT_FOUND", `${path} is a folder in the sandbox.`),
};

/**
 * Writes files into /mnt/data through the supervisor's "write" requests, one chunk at a time: the
 * worker holds a chunk or two, whatever the files weigh. Bodies are opened one at a time and must
 * be exactly their size. The supervisor writes as the sandbox's user and never follows a link.
 */
export async function writeFilesOver(connection: RunnerConnection, files: Iterable<FileSource> | AsyncIterable<FileSource>, options: WriteFilesOptions): Promise<{ files: number; bytes: number }> {
  const { mode = 0o644, dirMode = 0o755 } = options;
  const timeout = AbortSignal.timeout(options.timeoutMs);
  let count = 0;
  let bytes = 0;
  try {
    for await (const file of files) {
      relativeSegments(file.path);
      const body = await file.open();
      const checked = new ExactLength(file.size, file.path);
      const feeding = pipeline(body, checked).catch((error: unknown) => checked.destroy(error as Error));
      let offset = 0;
      const send = async (data: Buffer) => {
        const answer = await untilAborted(connection.request({ op: "write", path: file.path, offset, size: file.size, data: data.toString("base64"), mode, dirMode, ...(file.mtimeMs !== undefined ? { mtimeMs: Math.floor(file.mtimeMs) } : {}) }, writeAnswerSchema, REQUEST_TIMEOUT_MS), timeout);
        if (answer.problem) throw (PROBLEMS[answer.problem] ?? ((path: string) => new SandboxError("RUNNER_UNRESPONSIVE", `The sandbox could not write ${path} (${answer.problem}).`)))(file.path);
        if (answer.written !== offset + data.length) throw new SandboxError("RUNNER_PROTOCOL", "The sandbox answered a write with the wrong length.");
        offset += data.length;
      };
      if (file.size === 0) {
        for await (const _ of checked) void _;
        await send(Buffer.alloc(0));
      } else for await (const chunk of rechunked(checked, FILE_CHUNK_BYTES)) await send(chunk);
      await feeding;
      count++;
      bytes += file.size;
    }
  } catch (error) {
    if (timeout.aborted) throw new SandboxError("TRANSFER_TIMEOUT", `Writing files into the sandbox took longer than ${Math.round(options.timeoutMs / 1000)}s.`, { cause: error });
    throw error;
  }
  return { files: count, bytes };
}
