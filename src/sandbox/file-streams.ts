import { Readable, Transform, type TransformCallback } from "node:stream";
import { SandboxError } from "./sandbox-error.js";

/** A regular file of /mnt/data as the sandbox lists it: its path relative to /mnt/data, apparent size and modification time. */
export interface TreeEntry {
  path: string;
  /** The length a copy has: a sparse file counts at its full (apparent) length. */
  size: number;
  mtimeMs: number;
}

/** A file being read out of a session: exactly `size` bytes come out of body. */
export interface FileRead extends TreeEntry {
  body: Readable;
}

/** What a file to put into a session is: where it goes, its length, and its bytes when asked for them. */
export interface FileSource {
  /** Relative to /mnt/data ("a/b/c.csv"); absolute paths, "." and ".." segments are refused. */
  path: string;
  size: number;
  /** Its modification time in the sandbox (now when absent). */
  mtimeMs?: number;
  /** The body, opened when its turn comes: exactly size bytes. */
  open(): Promise<Readable>;
}

/**
 * What one transfer out of a session may carry: at most maxBytes in all, maxFileBytes a file, within
 * timeoutMs (transferTimeoutMs of the budget when absent). Every figure must be a finite number.
 */
export interface ReadBudget {
  maxBytes: number;
  maxFileBytes?: number;
  timeoutMs?: number;
}

/**
 * What a worker holds per transfer, whatever its size: the engine's archive stream and the tar
 * parser keep a few chunks (the tar being uploaded buffers 1 MiB); small files (≤ SMALL_FILE_BYTES)
 * read through the supervisor come in answers of at most this much (base64 on the wire). Stores
 * add their own bound (workspace-store.ts).
 */
export const SMALL_FILE_BYTES = 1 << 20;

const MIB = 1024 * 1024;

/** A transfer may take a minute, plus a second per 8 MiB it may carry (1 GiB: about three and a half minutes). */
export function transferTimeoutMs(maxBytes: number): number {
  return 60_000 + Math.ceil(maxBytes / (8 * MIB)) * 1000;
}

/**
 * A byte count used as a limit: a finite, non-negative integer, or a RangeError. Budgets are
 * computed from what a sandbox reported, so one that is NaN or infinite must stop the transfer
 * rather than let every comparison with it pass.
 */
export function checkedBytes(value: number, what: string): number {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${what} must be a finite, non-negative number of bytes (got ${String(value)})`);
  return Math.floor(value);
}

export function checkedBudget(budget: ReadBudget): Required<ReadBudget> {
  const maxBytes = checkedBytes(budget.maxBytes, "maxBytes");
  const maxFileBytes = Math.min(checkedBytes(budget.maxFileBytes ?? maxBytes, "maxFileBytes"), maxBytes);
  const timeoutMs = checkedBytes(budget.timeoutMs ?? transferTimeoutMs(maxBytes), "timeoutMs");
  return { maxBytes, maxFileBytes, timeoutMs };
}

/** Passes exactly `size` bytes on: more, or fewer by the end, fails the stream (what a store or sandbox sends is checked). */
export class ExactLength extends Transform {
  private seen = 0;

  constructor(
    private readonly size: number,
    private readonly what: string,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.size) done(new SandboxError("FILE_TOO_LARGE", `${this.what} is longer than the ${this.size} bytes it was said to have.`));
    else done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    done(this.seen === this.size ? null : new SandboxError("FILE_NOT_FOUND", `${this.what} ended after ${this.seen} of its ${this.size} bytes.`));
  }
}

/** A source of bytes already in memory (an upload, a test's snapshot). */
export function bufferSource(path: string, data: Buffer, mtimeMs?: number): FileSource {
  return { path, size: data.length, mtimeMs, open: async () => Readable.from([data]) };
}

/** Reads a stream whole: only for bodies already bounded by their caller (at most SMALL_FILE_BYTES, or a test's). */
export async function readWhole(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
