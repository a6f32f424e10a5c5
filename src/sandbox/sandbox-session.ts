import { randomUUID } from "node:crypto";
import type Docker from "dockerode";
import type { ExecutionResult, SandboxFile } from "../core/execution-result.js";
import type { Logger } from "../log.js";
import type { z } from "zod";
import { DATA_DIR } from "./container-spec.js";
import { dataPath, downloadFile, megabytes, putDataFile, uploadFiles, type UploadedFile, type UploadSource } from "./file-transfer.js";
import { ExecutionCalls } from "./execution-calls.js";
import { RunnerConnection } from "./runner-connection.js";
import type { SessionCallHandler } from "./session-calls.js";
import { SandboxError } from "./sandbox-error.js";
import { boundedExecAnswerSchema, filesAnswerSchema, readAnswerSchema, restoreAnswerSchema, snapshotAnswerSchema } from "./runner-protocol.js";
import { maxFrameBytes, type SandboxLimits } from "./sandbox-limits.js";

/** Files up to this size come back through the supervisor in one answer; larger ones through the archive API. */
const SMALL_FILE_BYTES = 1 << 20;
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

/** One attached, live sandbox: executions in it run one at a time, in the order they were asked. */
export class SandboxSession {
  private tail: Promise<unknown> = Promise.resolve();
  private readonly answerSchema: ReturnType<typeof boundedExecAnswerSchema>;

  private constructor(
    readonly sessionId: string,
    readonly container: Docker.Container,
    private readonly connection: RunnerConnection,
    private readonly limits: SandboxLimits,
    private readonly log: Logger,
  ) {
    this.answerSchema = boundedExecAnswerSchema(limits);
  }

  /** Attaches to a started sandbox (or uses the connection a pool claim already made) once its Python is ready. */
  static async open(
    sessionId: string,
    container: Docker.Container,
    limits: SandboxLimits,
    log: Logger,
    connection?: RunnerConnection,
    readyTimeoutMs = READY_TIMEOUT_MS,
  ): Promise<SandboxSession> {
    return new SandboxSession(sessionId, container, connection ?? (await RunnerConnection.ready(container, log, readyTimeoutMs, maxFrameBytes(limits))), limits, log);
  }

  onClose(listener: () => void): void {
    this.connection.onClose(listener);
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

  upload(sources: UploadSource[]): Promise<UploadedFile[]> {
    return this.serial(() => uploadFiles(this.container, sources, this.limits.maxFileBytes));
  }

  /** Reads a file of the session, refusing it (before any byte is buffered) past maxBytes. */
  download(path: string, maxBytes = this.limits.maxFileBytes): Promise<Buffer> {
    return this.serial(() => this.readFile(path, Math.min(maxBytes, this.limits.maxFileBytes)));
  }

  /**
   * Snapshots the session's variables in its sandbox and downloads the snapshot (at most maxBytes;
   * SANDBOX_MAX_FILE_MB does not apply). data is absent when the snapshot is tooLarge: nothing was
   * written, outcome.largest says which variables weigh most. The file stays in the sandbox, hidden,
   * until its next execution removes it. The snapshot is the user's data: it is only ever loaded
   * inside a sandbox (loadState), never unpickled here. Rejects (SandboxError) when the sandbox
   * could not do it; its Python was then restarted and the variables are lost.
   */
  saveState(maxBytes: number): Promise<{ outcome: SnapshotOutcome; data?: Buffer }> {
    return this.serial(async () => {
      const { id: _id, op: _op, ...outcome } = await this.connection.request({ op: "snapshot", maxBytes }, snapshotAnswerSchema, NAMESPACE_TIMEOUT_MS);
      if (outcome.tooLarge) return { outcome };
      const data = await this.readFile(STATE_FILE, maxBytes);
      this.log.debug({ bytes: data.length, saved: outcome.saved.length, skipped: outcome.skipped.length }, "saved the session's variables");
      return { outcome, data };
    });
  }

  /**
   * Loads a snapshot saveState made (in this thread's earlier sandbox) into this session: each
   * variable it can, outcome.failed says which could not and why. The file is deleted in the
   * sandbox once read. Rejects (SandboxError) when the sandbox could not do it.
   */
  loadState(data: Buffer): Promise<RestoreOutcome> {
    return this.serial(async () => {
      await putDataFile(this.container, STATE_FILE, data, { mode: 0o600, dirMode: 0o700 });
      const { id: _id, op: _op, ...outcome } = await this.connection.request({ op: "restore" }, restoreAnswerSchema, NAMESPACE_TIMEOUT_MS);
      return outcome;
    });
  }

  /**
   * A file of /mnt/data (absolute or relative to it). The supervisor reads it (links never
   * followed, regular files only): a small file comes back in its first answer, in a millisecond or
   * two where the engine's archive API takes 60 ms or more. A larger one, now known to be a regular
   * file, comes through the archive API, which carries megabytes faster than the attach stream
   * (nothing of the user's runs between cells to swap it meanwhile). Refused past maxBytes
   * (FILE_TOO_LARGE), whatever size the sandbox claimed.
   */
  private async readFile(file: string, maxBytes: number): Promise<Buffer> {
    const target = dataPath(file);
    const path = target.slice(DATA_DIR.length + 1);
    const chunkBytes = Math.max(4096, Math.min(SMALL_FILE_BYTES, Math.floor(((maxFrameBytes(this.limits) - 4096) * 3) / 4)));
    const answer = await this.connection.request({ op: "read", path, offset: 0, length: chunkBytes, maxBytes }, readAnswerSchema(chunkBytes), READY_TIMEOUT_MS);
    if (answer.problem === "too-large") throw new SandboxError("FILE_TOO_LARGE", `${target} is ${megabytes(answer.size ?? 0)}, over the ${megabytes(maxBytes)} download limit.`);
    if (answer.problem) throw new SandboxError("FILE_NOT_FOUND", answer.problem === "not-found" ? `${target} does not exist in the session.` : `${target} is not a regular file.`);
    const data = Buffer.from(answer.data ?? "", "base64");
    if (answer.offset !== 0 || data.length > chunkBytes) throw new SandboxError("RUNNER_PROTOCOL", "The sandbox answered a read with the wrong part of the file.");
    if (answer.eof) return data;
    return downloadFile(this.container, target, maxBytes);
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
      await this.container.kill().catch(() => undefined);
      this.connection.close();
      const broke = error instanceof SandboxError && error.code === "RUNNER_PROTOCOL";
      return {
        status: "killed",
        stdout: "",
        stderr: "",
        files: [],
        images: [],
        durationMs: Math.round(performance.now() - started),
        stateLost: true,
        notes: [
          broke
            ? "The sandbox sent back something malformed or too large and was discarded: the next execution starts a fresh session (variables and files are lost)."
            : "The sandbox stopped unexpectedly and was discarded: the next execution starts a fresh session (variables and files are lost).",
        ],
      };
    } finally {
      calls.end();
      signal?.removeEventListener("abort", onAbort);
    }
  }
}
