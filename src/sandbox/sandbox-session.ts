import { randomUUID } from "node:crypto";
import type { ExecutionResult, SandboxFile } from "../core/execution-result.js";
import type { Logger } from "../log.js";
import type { z } from "zod";
import { checkedBytes, transferTimeoutMs, type FileRead, type FileSource, type ReadBudget, type TreeEntry } from "./file-streams.js";
import { planUpload, type UploadedFile, type UploadSource } from "./file-transfer.js";
import { ExecutionCalls } from "./execution-calls.js";
import { lostExecution } from "./lost-execution.js";
import { RunnerConnection } from "./runner-connection.js";
import type { SessionCallHandler } from "./session-calls.js";
import { SandboxError } from "./sandbox-error.js";
import { boundedExecAnswerSchema, filesAnswerSchema, restoreAnswerSchema, snapshotAnswerSchema } from "./runner-protocol.js";
import type { SandboxHandle } from "./sandbox-handle.js";
import { maxFrameBytes, type SandboxLimits } from "./sandbox-limits.js";
import { DATA_DIR, dataPath } from "./sandbox-paths.js";
import { SessionFiles, type ReadOutcome, type Tree } from "./session-files.js";

/** How long past its own timeout the supervisor may take to interrupt, restart Python and answer. */
const SUPERVISOR_GRACE_MS = 60_000;
/** How long a sandbox may take to start Python and import the data stack. */
export const READY_TIMEOUT_MS = 120_000;
/**
 * How long a running session may take to answer a ping (its supervisor answers at once, even
 * during an execution): longer means it is ending (its idle timeout) or broken, and a fresh one starts.
 */
export const LIVE_READY_TIMEOUT_MS = 10_000;

/** Where a snapshot of the session's variables is, relative to /mnt/data (never listed to users). */
export const STATE_FILE = ".codebot/state.pkl";
/** How long the sandbox may take to save or load the variables (its own limit is 120 s), restarts included. */
const NAMESPACE_TIMEOUT_MS = 120_000 + SUPERVISOR_GRACE_MS;

/** What a snapshot of the session's variables did (see snapshotAnswerSchema). */
export type SnapshotOutcome = Omit<z.infer<typeof snapshotAnswerSchema>, "id" | "op">;
/** What a restore did (see restoreAnswerSchema). */
export type RestoreOutcome = Omit<z.infer<typeof restoreAnswerSchema>, "id" | "op">;

export interface ExecuteOptions {
  /** Per-execution timeout; the session's default when omitted. */
  timeoutMs?: number;
  /** Aborting cancels the execution: it is interrupted and answered with status "cancelled". */
  signal?: AbortSignal;
  /** Carried into the execution id, so the sandbox's logs name the request. */
  requestId?: string;
  /**
   * The execution's own id, stable across workers (a turn's event id and step). The sandbox runs an
   * id once: asked again (a worker took the turn over), it answers with the first run's result.
   */
  executionId?: string;
  /**
   * Answers the data-source calls the code makes while it runs (`from codebot import sql`), within
   * the execution's timeout; none: each call is refused with a clear error.
   */
  onCall?: SessionCallHandler;
}

/**
 * One attached, live sandbox of a thread, whatever backend runs it: the session of the backend port.
 * It speaks the supervisor's protocol (runner-protocol.ts) over the attachment its backend made,
 * and moves large files through the backend's handle (SandboxHandle). Executions, file moves and
 * snapshots run one at a time, in the order they were asked.
 */
export class SandboxSession {
  private tail: Promise<unknown> = Promise.resolve();
  private readonly answerSchema: ReturnType<typeof boundedExecAnswerSchema>;
  private readonly files: SessionFiles;
  private discarded = false;

  private constructor(
    readonly sessionId: string,
    private readonly sandbox: SandboxHandle,
    private readonly connection: RunnerConnection,
    private readonly limits: SandboxLimits,
    private readonly log: Logger,
  ) {
    this.answerSchema = boundedExecAnswerSchema(limits);
    this.files = new SessionFiles(sandbox, connection, limits);
  }

  /** The backend's id of the session's sandbox (a container's, a pod's): for logs and measurements. */
  get sandboxId(): string {
    return this.sandbox.id;
  }

  /** Attaches to a started sandbox (or uses the connection a pool claim already made) once its Python is ready. */
  static async open(
    sessionId: string,
    sandbox: SandboxHandle,
    limits: SandboxLimits,
    log: Logger,
    connection?: RunnerConnection,
    readyTimeoutMs = READY_TIMEOUT_MS,
  ): Promise<SandboxSession> {
    return new SandboxSession(sessionId, sandbox, connection ?? (await RunnerConnection.ready(sandbox, log, readyTimeoutMs, maxFrameBytes(limits))), limits, log);
  }

  /** Called once the connection is gone: detached, the sandbox ended, or discarded (see `lost`). */
  onClose(listener: () => void): void {
    this.connection.onClose(listener);
  }

  /** The sandbox broke or stopped during an execution and was stopped for good: its variables and files are gone. */
  get lost(): boolean {
    return this.discarded;
  }

  /** The sandbox's Python version, as it reported it when attached (undefined for a claimed pool member or an older image). */
  get python(): string | undefined {
    return this.connection.python;
  }

  execute(code: string, options: ExecuteOptions = {}): Promise<ExecutionResult> {
    return this.serial(() => this.run(code, options));
  }

  listFiles(): Promise<SandboxFile[]> {
    return this.serial(async () => (await this.connection.request({ op: "files" }, filesAnswerSchema, READY_TIMEOUT_MS)).files);
  }

  /** Puts the user's files at the top of /mnt/data under safe, distinct names; one over SANDBOX_MAX_FILE_MB is refused before anything is sent. */
  upload(sources: UploadSource[]): Promise<UploadedFile[]> {
    return this.serial(async () => {
      const plan = await planUpload(sources, this.limits.maxFileBytes);
      await this.files.putFiles(plan.files, { timeoutMs: transferTimeoutMs(plan.bytes) });
      return plan.uploaded;
    });
  }

  /** Reads a file of the session whole, refusing it (before any byte is buffered) past maxBytes (at most SANDBOX_MAX_FILE_MB). */
  async download(path: string, maxBytes = this.limits.maxFileBytes): Promise<Buffer> {
    const limit = Math.min(checkedBytes(maxBytes, "maxBytes"), this.limits.maxFileBytes);
    return this.serial(() => this.files.readSmall(dataPath(path).slice(DATA_DIR.length + 1), limit));
  }

  /**
   * The regular files of /mnt/data (its hidden .codebot folder left out) with their apparent sizes
   * (a sparse file at its full length) and mtimes; at most maxFiles, complete false when there are more.
   */
  async listTree(maxFiles: number): Promise<Tree> {
    const limit = checkedBytes(maxFiles, "maxFiles");
    return this.serial(() => this.files.listTree(limit));
  }

  /** The size and mtime of each named file (relative to /mnt/data) that is a regular file now. */
  statFiles(paths: string[]): Promise<Map<string, TreeEntry>> {
    return this.serial(() => this.files.stat(paths));
  }

  /**
   * Streams listed files out of the session within a byte budget and a timeout: each is handed to
   * `each` as a stream (take it before returning), in order; what would go past the budget is
   * refused before a byte of it is read. The worker holds a few chunks per transfer, whatever the
   * files weigh (file-streams.ts). The session is held until it is done.
   */
  readFiles(files: TreeEntry[], budget: ReadBudget, each: (file: FileRead) => Promise<void>): Promise<ReadOutcome> {
    return this.serial(() => this.files.readFiles(files, budget, each));
  }

  /** Streams files into /mnt/data, owned by the sandbox's user, bodies opened one at a time as their turn comes. */
  async putFiles(files: Iterable<FileSource> | AsyncIterable<FileSource>, budget: { maxBytes: number; timeoutMs?: number }): Promise<{ files: number; bytes: number }> {
    const timeoutMs = budget.timeoutMs ?? transferTimeoutMs(checkedBytes(budget.maxBytes, "maxBytes"));
    return this.serial(() => this.files.putFiles(files, { timeoutMs }));
  }

  /**
   * Snapshots the session's variables in its sandbox and streams the snapshot to `keep` (at most
   * maxBytes; SANDBOX_MAX_FILE_MB does not apply). Nothing is kept when the snapshot is tooLarge:
   * nothing was written, outcome.largest says which variables weigh most. The file stays in the
   * sandbox, hidden, until its next execution removes it. The snapshot is the user's data: it is
   * only ever loaded inside a sandbox (loadState), never unpickled here. Rejects (SandboxError) when
   * the sandbox could not do it; its Python was then restarted and the variables are lost.
   */
  async saveState(maxBytes: number, keep: (snapshot: FileRead) => Promise<void>): Promise<SnapshotOutcome> {
    const limit = checkedBytes(maxBytes, "maxBytes");
    return this.serial(async () => {
      const { id: _id, op: _op, ...outcome } = await this.connection.request({ op: "snapshot", maxBytes: limit }, snapshotAnswerSchema, NAMESPACE_TIMEOUT_MS);
      if (outcome.tooLarge) return outcome;
      const listed = (await this.files.stat([STATE_FILE])).get(STATE_FILE);
      if (!listed || listed.size > limit) throw new SandboxError("FILE_TOO_LARGE", `The snapshot of the variables is missing or over ${limit} bytes.`);
      const read = await this.files.readFiles([listed], { maxBytes: limit }, keep);
      if (!read.read.length) throw new SandboxError("FILE_NOT_FOUND", "The snapshot of the variables could not be read.");
      this.log.debug({ bytes: listed.size, saved: outcome.saved.length, skipped: outcome.skipped.length }, "saved the session's variables");
      return outcome;
    });
  }

  /**
   * Loads a snapshot saveState made (in this thread's earlier sandbox) into this session, streamed
   * in: each variable it can, outcome.failed says which could not and why. The file is deleted in
   * the sandbox once read. Rejects (SandboxError) when the sandbox could not do it.
   */
  loadState(snapshot: Omit<FileSource, "path" | "mtimeMs">): Promise<RestoreOutcome> {
    return this.serial(async () => {
      const source: FileSource = { ...snapshot, path: STATE_FILE };
      await this.files.putFiles([source], { mode: 0o600, dirMode: 0o700, timeoutMs: transferTimeoutMs(snapshot.size) });
      const { id: _id, op: _op, ...outcome } = await this.connection.request({ op: "restore" }, restoreAnswerSchema, NAMESPACE_TIMEOUT_MS);
      return outcome;
    });
  }

  detach(): void {
    this.connection.close();
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const next = this.tail.then(task, task);
    this.tail = next.catch(() => undefined);
    return next;
  }

  private async run(code: string, { timeoutMs = this.limits.timeoutMs, signal, requestId, executionId, onCall }: ExecuteOptions): Promise<ExecutionResult> {
    const id = executionId ?? `${requestId ?? "exec"}:${randomUUID()}`;
    const log = this.log.child({ execId: id });
    const onAbort = () => this.connection.interrupt(id);
    if (signal?.aborted) onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });
    const started = performance.now();
    const calls = new ExecutionCalls(id, this.connection, onCall, Date.now() + timeoutMs, log);
    try {
      const { limits } = this;
      const { id: _id, op: _op, ...result } = await this.connection.request(
        {
          op: "exec",
          code,
          timeoutMs,
          maxOutputBytes: limits.maxOutputBytes,
          maxResultBytes: limits.maxResultBytes,
          maxImages: limits.maxImages,
          maxImageBytes: limits.maxImageBytes,
          maxFiles: limits.maxFilesListed,
        },
        this.answerSchema,
        timeoutMs + SUPERVISOR_GRACE_MS,
        id,
      );
      log.debug({ status: result.status, durationMs: result.durationMs }, "execution finished");
      return result;
    } catch (error) {
      if (error instanceof SandboxError && error.code === "SESSION_ENDED") throw error; // never started: the manager runs it afresh
      log.warn({ err: error }, "sandbox lost during execution");
      this.discarded = true;
      await this.sandbox.kill().catch(() => undefined);
      this.connection.close();
      return lostExecution(error instanceof SandboxError && error.code === "RUNNER_PROTOCOL", Math.round(performance.now() - started));
    } finally {
      calls.end();
      signal?.removeEventListener("abort", onAbort);
    }
  }
}
