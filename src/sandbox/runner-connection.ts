import { randomUUID } from "node:crypto";
import { once } from "node:events";
import type { Duplex } from "node:stream";
import type { z } from "zod";
import type { Logger } from "../log.js";
import { lineSplitter } from "./line-splitter.js";
import { pongSchema, runnerAnswerSchema, runnerErrorSchema, type RunnerInterrupt, type RunnerRequest } from "./runner-protocol.js";
import { SandboxError } from "./sandbox-error.js";
import type { SandboxHandle, SupervisorStream } from "./sandbox-handle.js";

/** Longest diagnostic line kept from a sandbox's stderr, and longest message logged from it. */
const MAX_DIAGNOSTIC_BYTES = 16 * 1024;
const MAX_LOGGED_CHARS = 300;

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void; timer: NodeJS.Timeout };
type RequestBody = RunnerRequest extends infer R ? (R extends { id: string } ? Omit<R, "id"> : never) : never;

/**
 * A frame whose last field is "data", bytes as base64, built as bytes: a chunk of megabytes is
 * never copied through a JSON string (the base64 text is ASCII, so its Latin-1 bytes are its UTF-8).
 */
function frameWithData(message: object, data: Buffer): Buffer {
  const head = JSON.stringify(message).slice(0, -1);
  return Buffer.concat([Buffer.from(`${head}${head.length > 1 ? "," : ""}"data":"`), Buffer.from(data.toString("base64"), "latin1"), Buffer.from('"}\n')]);
}

/**
 * One attached stdin/stdout stream to a sandbox's supervisor, over whatever duplex stream its
 * backend attached (SupervisorStream). Requests carry ids and answers are routed by id, so several
 * codebot processes may be attached to the same sandbox at once.
 * The sandbox is hostile: a line longer than maxFrameBytes or one that is not a JSON object
 * ends the connection (every pending request fails with RUNNER_PROTOCOL), and what it writes to
 * stderr is logged only as a clipped message under `sandboxLog`, never as fields of our own.
 */
export class RunnerConnection {
  private readonly pending = new Map<string, Pending>();
  private closedError: SandboxError | undefined;
  private readonly closeListeners: Array<() => void> = [];
  /** Data-source calls ("call", "call-cancel" frames) by the execution they belong to (session-calls.ts). */
  private readonly callListeners = new Map<string, (frame: unknown) => void>();
  /** The sandbox's Python version, as its supervisor answered the ready ping (validated); unknown without one. */
  python: string | undefined;

  private constructor(
    private readonly stream: Duplex,
    private readonly log: Logger,
  ) {}

  /** Speaks the protocol over an attached stream: the supervisor's stdout carries answers, its stderr its own log lines. */
  static over({ stream, demux }: SupervisorStream, log: Logger, maxFrameBytes: number): RunnerConnection {
    const connection = new RunnerConnection(stream, log);
    const stdout = lineSplitter((line) => connection.onAnswer(line), maxFrameBytes, (bytes) =>
      connection.violation(`it sent an answer over the ${Math.round(maxFrameBytes / 1048576)} MB limit (${bytes} bytes so far)`),
    );
    const stderr = lineSplitter((line) => connection.onDiagnostic(line), MAX_DIAGNOSTIC_BYTES);
    demux(stdout, stderr);
    const onGone = () => connection.fail(new SandboxError("RUNNER_UNRESPONSIVE", "The sandbox stopped."));
    stream.on("end", onGone);
    stream.on("close", onGone);
    stream.on("error", (error) => connection.fail(new SandboxError("RUNNER_UNRESPONSIVE", `Lost the sandbox: ${error.message}`)));
    return connection;
  }

  static async attach(sandbox: SandboxHandle, log: Logger, maxFrameBytes: number): Promise<RunnerConnection> {
    return RunnerConnection.over(await sandbox.attach(), log, maxFrameBytes);
  }

  /** Attaches and waits until the sandbox's Python is ready (its supervisor answers a ping). */
  static async ready(sandbox: SandboxHandle, log: Logger, timeoutMs: number, maxFrameBytes: number): Promise<RunnerConnection> {
    const connection = await RunnerConnection.attach(sandbox, log, maxFrameBytes);
    try {
      connection.python = (await connection.request({ op: "ping" }, pongSchema, timeoutMs)).python;
      return connection;
    } catch (error) {
      connection.close();
      throw error;
    }
  }

  get closed(): boolean {
    return this.closedError !== undefined;
  }

  onClose(listener: () => void): void {
    this.closeListeners.push(listener);
  }

  /** Sends one request and waits for its answer, validated against schema. */
  request<S extends z.ZodTypeAny>(body: RequestBody, schema: S, timeoutMs: number, id: string = randomUUID()): Promise<z.infer<S>> {
    if (this.closedError) return Promise.reject(this.closedError);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new SandboxError("RUNNER_UNRESPONSIVE", `The sandbox did not answer within ${Math.round(timeoutMs / 1000)}s.`));
      }, timeoutMs);
      this.pending.set(id, {
        timer,
        reject,
        resolve: (value) => {
          const parsed = schema.safeParse(value);
          if (parsed.success) resolve(parsed.data);
          else {
            const error = runnerErrorSchema.safeParse(value);
            reject(
              error.success
                ? new SandboxError("RUNNER_UNRESPONSIVE", `The sandbox could not do it: ${error.data.message}`)
                : new SandboxError("RUNNER_PROTOCOL", `The sandbox answered outside the protocol or its limits: ${parsed.error.message.slice(0, 500)}`),
            );
          }
        },
      });
      this.write({ ...body, id });
    });
  }

  /** Takes the call frames of one execution until the returned function is called. */
  onCalls(executionId: string, listener: (frame: unknown) => void): () => void {
    this.callListeners.set(executionId, listener);
    return () => {
      if (this.callListeners.get(executionId) === listener) this.callListeners.delete(executionId);
    };
  }

  /**
   * Writes one frame that is no request (a call's answer), waiting while the stream's buffer is
   * full, so a large answer is never held in memory ahead of what the sandbox has taken.
   */
  async send(message: object, data?: Buffer): Promise<void> {
    if (this.closedError) throw this.closedError;
    if (this.stream.write(data ? frameWithData(message, data) : `${JSON.stringify(message)}\n`)) return;
    const stop = new AbortController();
    const settled = (event: string) => once(this.stream, event, { signal: stop.signal }).then(() => undefined, () => undefined);
    try {
      await Promise.race([settled("drain"), settled("close")]);
    } finally {
      stop.abort();
    }
    if (this.closedError) throw this.closedError;
  }

  /** Asks the supervisor to stop an execution now (it answers that execution as "cancelled"). */
  interrupt(target: string): void {
    if (!this.closedError) this.write({ op: "interrupt", target } satisfies RunnerInterrupt);
  }

  close(): void {
    this.fail(new SandboxError("RUNNER_UNRESPONSIVE", "The connection to the sandbox was closed."));
    this.stream.destroy();
  }

  private write(message: object): void {
    this.stream.write(`${JSON.stringify(message)}\n`);
  }

  private onAnswer(line: string): void {
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      this.violation("it wrote a line that is not JSON");
      return;
    }
    const routed = runnerAnswerSchema.safeParse(message);
    if (!routed.success) {
      this.violation("it wrote a frame without a request id");
      return;
    }
    if (routed.data.op === "call" || routed.data.op === "call-cancel") {
      this.callListeners.get(routed.data.id)?.(message); // another process's execution: not ours to answer
      return;
    }
    if (routed.data.id === "*" && routed.data.op === "closing") {
      this.fail(new SandboxError("SESSION_ENDED", "The sandbox session ended (idle) before it read the request."));
      this.stream.destroy();
      return;
    }
    const pending = this.pending.get(routed.data.id);
    if (!pending) return; // an answer for another attached process
    this.pending.delete(routed.data.id);
    clearTimeout(pending.timer);
    pending.resolve(message);
  }

  /** The sandbox's own log lines: level and message only, clipped, kept apart from our fields. */
  private onDiagnostic(line: string): void {
    let level: unknown;
    let msg: unknown = line;
    try {
      ({ level, msg } = JSON.parse(line) as { level?: unknown; msg?: unknown });
    } catch {
      // not JSON: logged as text
    }
    const text = (typeof msg === "string" ? msg : JSON.stringify(msg ?? null)).slice(0, MAX_LOGGED_CHARS);
    if (level === "error" || level === "warn") this.log.warn({ sandboxLog: text }, "sandbox reported a problem");
    else this.log.debug({ sandboxLog: text }, "sandbox log");
  }

  /** The sandbox broke the protocol: nothing more it says on this connection is believed. */
  violation(what: string): void {
    if (this.closedError) return;
    this.log.warn({ violation: what }, "sandbox broke the runner protocol; disconnecting");
    this.fail(new SandboxError("RUNNER_PROTOCOL", `The sandbox broke the runner protocol: ${what}.`));
    this.stream.destroy();
  }

  private fail(error: SandboxError): void {
    if (this.closedError) return;
    this.closedError = error;
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(error);
      this.pending.delete(id);
    }
    for (const listener of this.closeListeners) listener();
  }
}
