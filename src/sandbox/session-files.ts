import { Readable } from "node:stream";
import type { z } from "zod";
import { megabytes } from "./file-transfer.js";
import { checkedBudget, readWhole, SMALL_FILE_BYTES, transferTimeoutMs, type FileRead, type FileSource, type ReadBudget, type TreeEntry } from "./file-streams.js";
import type { RunnerConnection } from "./runner-connection.js";
import { MAX_NAMED_PATHS, MAX_TREE_PAGE, readAnswerSchema, readManyAnswerSchema, statAnswerSchema, treeAnswerSchema } from "./runner-protocol.js";
import { SandboxError } from "./sandbox-error.js";
import type { SandboxHandle, WriteFilesOptions } from "./sandbox-handle.js";
import { maxFrameBytes, type SandboxLimits } from "./sandbox-limits.js";
import { DATA_DIR } from "./sandbox-paths.js";

/** How long the supervisor may take to list, stat or read. */
const LISTING_TIMEOUT_MS = 120_000;
/** Pages of one listing at most (a page holds up to 10,000 files, or 1 MiB of them). */
const MAX_TREE_PAGES = 1000;

/** The listing of /mnt/data: at most maxFiles files; complete is false when there were more. */
export interface Tree {
  files: TreeEntry[];
  complete: boolean;
  /** Files whose path can't be named exactly as text (not listed). */
  unnamed: number;
}

/** What a read did: each file was handed on (read), left out because it did not fit the budget (refused), or was not there (missing). */
export interface ReadOutcome {
  read: TreeEntry[];
  refused: TreeEntry[];
  missing: string[];
}

/** The promise, or the signal's reason as soon as it fires (the transfer's timeout holds while a request is out). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Aborts with TRANSFER_TIMEOUT after timeoutMs; clear() when done. */
function transferTimer(timeoutMs: number, what: string): { signal: AbortSignal; clear(): void } {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new SandboxError("TRANSFER_TIMEOUT", `${what} took longer than ${Math.round(timeoutMs / 1000)}s.`)), timeoutMs);
  return { signal: abort.signal, clear: () => clearTimeout(timer) };
}

/**
 * The files of one session as streams, for durable workspaces: listings through its supervisor,
 * small files in bulk through it too (one answer carries up to a MiB of them), larger ones one at
 * a time through the backend's own file transfer (SandboxHandle.readFile: Docker's archive API, a
 * 60 ms call but megabytes faster than the supervisor's pipe), each within a byte budget and a
 * timeout. Only listed files that fit are asked for, so nothing is pulled through the worker to be
 * skipped. Not serialized itself: SandboxSession calls it one operation at a time.
 */
export class SessionFiles {
  /** What one readMany answer carries at most (within the longest line the host accepts), and so the largest file read in bulk. */
  private readonly bulkBytes: number;

  constructor(
    private readonly sandbox: SandboxHandle,
    private readonly connection: RunnerConnection,
    private readonly limits: SandboxLimits,
  ) {
    this.bulkBytes = Math.max(64 * 1024, Math.min(SMALL_FILE_BYTES, Math.floor(((maxFrameBytes(limits) - 512 * 1024) * 3) / 4)));
  }

  /** The regular files of /mnt/data (never .codebot), with apparent sizes and mtimes; at most maxFiles of them. */
  async listTree(maxFiles: number): Promise<Tree> {
    const files = new Map<string, TreeEntry>();
    let unnamed = 0;
    let start: number | null = 0;
    for (let pages = 1; start !== null && files.size < maxFiles; pages++) {
      if (pages > MAX_TREE_PAGES) throw new SandboxError("RUNNER_PROTOCOL", `The sandbox's listing went on past ${MAX_TREE_PAGES} pages.`);
      const page: z.infer<typeof treeAnswerSchema> = await this.connection.request({ op: "tree", start, maxEntries: Math.min(MAX_TREE_PAGE, maxFiles - files.size) }, treeAnswerSchema, LISTING_TIMEOUT_MS);
      for (const file of page.files) files.set(file.path, file);
      unnamed += page.unnamed;
      // Each page moves on and holds something: a sandbox can't keep the worker asking forever.
      if (page.next !== null && (page.next <= start || page.files.length + page.unnamed === 0)) throw new SandboxError("RUNNER_PROTOCOL", "The sandbox's listing did not move on.");
      start = page.next;
    }
    return { files: [...files.values()], complete: start === null, unnamed };
  }

  /** The size and mtime of each named file that is a regular file now. */
  async stat(paths: string[]): Promise<Map<string, TreeEntry>> {
    const found = new Map<string, TreeEntry>();
    for (const batch of chunks(paths, MAX_NAMED_PATHS)) {
      const answer = await this.connection.request({ op: "stat", paths: batch }, statAnswerSchema(batch.length), LISTING_TIMEOUT_MS);
      batch.forEach((path, i) => {
        const facts = answer.files[i];
        if (facts) found.set(path, { path, ...facts });
      });
    }
    return found;
  }

  /**
   * Reads the listed files in order, as far as the budget goes (a file over maxFileBytes, or one
   * that would go past maxBytes, is refused without a byte of it read), handing each to `each` as a
   * stream. A size that differs from the listing stops the read (FILE_TOO_LARGE); so does the
   * timeout (TRANSFER_TIMEOUT). Returns what was read, refused and missing.
   */
  async readFiles(files: TreeEntry[], budget: ReadBudget, each: (file: FileRead) => Promise<void>): Promise<ReadOutcome> {
    const limits = checkedBudget(budget);
    const outcome: ReadOutcome = { read: [], refused: [], missing: [] };
    const chosen: TreeEntry[] = [];
    let total = 0;
    for (const file of files) {
      if (file.size > limits.maxFileBytes || total + file.size > limits.maxBytes) outcome.refused.push(file);
      else {
        total += file.size;
        chosen.push(file);
      }
    }
    if (!chosen.length) return outcome;
    const timer = transferTimer(limits.timeoutMs, "Reading files from the sandbox");
    const done = (file: TreeEntry, found: boolean) => {
      if (found) outcome.read.push(file);
      else outcome.missing.push(file.path);
    };
    try {
      let batch: TreeEntry[] = [];
      let batchBytes = 0;
      for (const file of chosen) {
        timer.signal.throwIfAborted();
        if (file.size > this.bulkBytes) {
          await this.readBulk(batch, each, timer.signal, done);
          [batch, batchBytes] = [[], 0];
          done(file, await this.sandbox.readFile(file, each, timer.signal));
          continue;
        }
        if (batch.length >= MAX_NAMED_PATHS || batchBytes + file.size > this.bulkBytes) {
          await this.readBulk(batch, each, timer.signal, done);
          [batch, batchBytes] = [[], 0];
        }
        batch.push(file);
        batchBytes += file.size;
      }
      await this.readBulk(batch, each, timer.signal, done);
    } catch (error) {
      throw timer.signal.aborted ? timer.signal.reason : error;
    } finally {
      timer.clear();
    }
    return outcome;
  }

  /** Writes files into /mnt/data through the backend's streamed write (SandboxHandle.writeFiles). */
  putFiles(files: Iterable<FileSource> | AsyncIterable<FileSource>, options: WriteFilesOptions): Promise<{ files: number; bytes: number }> {
    return this.sandbox.writeFiles(files, options);
  }

  /**
   * A file of /mnt/data, whole, refused past maxBytes (FILE_TOO_LARGE), whatever size the sandbox
   * claimed. The supervisor reads it (links never followed, regular files only): a small file comes
   * back in its first answer, in a millisecond or two where the engine's archive API takes 60 ms or
   * more; a larger one, now known to be a regular file of a known size, comes through the backend's
   * file transfer, refused if it is then of another size or kind.
   */
  async readSmall(path: string, maxBytes: number): Promise<Buffer> {
    const target = `${DATA_DIR}/${path}`;
    const chunkBytes = Math.max(4096, Math.min(SMALL_FILE_BYTES, Math.floor(((maxFrameBytes(this.limits) - 4096) * 3) / 4)));
    const answer = await this.connection.request({ op: "read", path, offset: 0, length: chunkBytes, maxBytes }, readAnswerSchema(chunkBytes), LISTING_TIMEOUT_MS);
    if (answer.problem === "too-large") throw new SandboxError("FILE_TOO_LARGE", `${target} is ${megabytes(answer.size ?? 0)}, over the ${megabytes(maxBytes)} download limit.`);
    if (answer.problem) throw new SandboxError("FILE_NOT_FOUND", answer.problem === "not-found" ? `${target} does not exist in the session.` : `${target} is not a regular file.`);
    const data = Buffer.from(answer.data ?? "", "base64");
    if (answer.offset !== 0 || data.length > chunkBytes || data.length > maxBytes) throw new SandboxError("RUNNER_PROTOCOL", "The sandbox answered a read with the wrong part of the file.");
    if (answer.eof) return data;
    const size = answer.size;
    if (size === undefined) throw new SandboxError("RUNNER_PROTOCOL", "The sandbox answered a read without the file's size.");
    if (size > maxBytes) throw new SandboxError("FILE_TOO_LARGE", `${target} is ${megabytes(size)}, over the ${megabytes(maxBytes)} download limit.`);
    let whole: Buffer | undefined;
    const timer = transferTimer(transferTimeoutMs(size), "Reading a file from the sandbox");
    try {
      // Exactly the size answered (at most maxBytes): readFile refuses a file that became another.
      const found = await this.sandbox.readFile({ path, size, mtimeMs: 0 }, async (file) => void (whole = await readWhole(file.body)), timer.signal);
      if (!found || !whole) throw new SandboxError("FILE_NOT_FOUND", `${target} does not exist in the session.`);
      return whole;
    } finally {
      timer.clear();
    }
  }

  /** Small listed files whole through the supervisor, as many an answer as fit bulkBytes, each checked against its listed size. */
  private async readBulk(files: TreeEntry[], each: (file: FileRead) => Promise<void>, signal: AbortSignal, done: (file: TreeEntry, found: boolean) => void): Promise<void> {
    for (let start = 0; start < files.length; ) {
      signal.throwIfAborted();
      const batch = files.slice(start, start + MAX_NAMED_PATHS);
      const paths = batch.map((file) => file.path);
      const asked = this.connection.request({ op: "readMany", paths, maxBytes: this.bulkBytes, maxFileBytes: this.bulkBytes }, readManyAnswerSchema(batch.length, this.bulkBytes), LISTING_TIMEOUT_MS);
      const answer = await untilAborted(asked, signal);
      if (!answer.files.length) throw new SandboxError("RUNNER_PROTOCOL", "The sandbox read none of the files asked for.");
      for (const [i, got] of answer.files.entries()) {
        const file = batch[i]!;
        const data = got ? Buffer.from(got.data, "base64") : undefined;
        if (data && (data.length !== file.size || got!.size !== file.size)) throw new SandboxError("FILE_TOO_LARGE", `${file.path} changed size while it was read (${data.length} bytes, listed at ${file.size}).`);
        if (data) await each({ ...file, body: Readable.from([data]) });
        done(file, data !== undefined);
      }
      start += answer.files.length;
    }
  }
}
