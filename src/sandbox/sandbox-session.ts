import { randomUUID } from "node:crypto";
import type Docker from "dockerode";
import type { ExecutionResult, SandboxFile } from "../core/execution-result.js";
import type { Logger } from "../log.js";
import { downloadFile, uploadFiles, type UploadedFile, type UploadSource } from "./file-transfer.js";
import { RunnerConnection } from "./runner-connection.js";
import { SandboxError } from "./sandbox-error.js";
import { boundedExecAnswerSchema, filesAnswerSchema } from "./runner-protocol.js";
import { maxFrameBytes, type SandboxLimits } from "./sandbox-limits.js";

/** How long past its own timeout the supervisor may take to interrupt, restart Python and answer. */
const SUPERVISOR_GRACE_MS = 60_000;
/** How long a sandbox may take to start Python and import the data stack. */
export const READY_TIMEOUT_MS = 120_000;
/**
 * How long a running session may take to answer a ping (its supervisor answers at once, even
 * during an execution): longer means it is ending (its idle timeout) or broken, and a fresh one starts.
 */
export const LIVE_READY_TIMEOUT_MS = 10_000;

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
    return downloadFile(this.container, path, Math.min(maxBytes, this.limits.maxFileBytes));
  }

  detach(): void {
    this.connection.close();
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const next = this.tail.then(task, task);
    this.tail = next.catch(() => undefined);
    return next;
  }

  private async run(code: string, { timeoutMs = this.limits.timeoutMs, signal, requestId, executionId }: ExecuteOptions): Promise<ExecutionResult> {
    const id = executionId ?? `${requestId ?? "exec"}:${randomUUID()}`;
    const log = this.log.child({ execId: id });
    const onAbort = () => this.connection.interrupt(id);
    if (signal?.aborted) onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });
    const started = performance.now();
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
      signal?.removeEventListener("abort", onAbort);
    }
  }
}
