import { randomUUID } from "node:crypto";
import type { Logger } from "../log.js";
import type { RunnerConnection } from "./runner-connection.js";
import { CALL_CHUNK_BYTES, callCancelSchema, CallFailure, callFrameSchema, sessionCallSchema, type SessionCallHandler } from "./session-calls.js";

const NO_SOURCES = "Data sources are not available here (codebot was not given any for this execution).";

/**
 * The data-source calls of one running execution: each call frame the supervisor forwards for it
 * is checked, answered by the execution's handler (streamed back in chunks, the stream's
 * backpressure respected) and ended; calls are answered one at a time, as the supervisor sends
 * them. When the execution ends, a call still running is aborted (the handler cancels its query).
 */
export class ExecutionCalls {
  private readonly ended = new AbortController();
  /** Names this answerer in every frame: were two processes attached to one execution (a takeover), the sandbox keeps to the first that answered. */
  private readonly by = randomUUID();
  private running: { call: string; cancel: AbortController } | undefined;
  private readonly unlisten: () => void;

  constructor(
    private readonly executionId: string,
    private readonly connection: RunnerConnection,
    private readonly handler: SessionCallHandler | undefined,
    /** When the execution's own timeout ends (epoch ms). */
    private readonly deadline: number,
    private readonly log: Logger,
  ) {
    this.unlisten = connection.onCalls(executionId, (frame) => this.onFrame(frame));
  }

  /** The execution is over: no more calls, and one still running is stopped. */
  end(): void {
    this.unlisten();
    this.ended.abort();
    this.running?.cancel.abort();
  }

  private onFrame(frame: unknown): void {
    const cancel = callCancelSchema.safeParse(frame);
    if (cancel.success) {
      if (this.running?.call === cancel.data.call) this.running.cancel.abort();
      return;
    }
    const parsed = callFrameSchema.safeParse(frame);
    if (!parsed.success) {
      this.connection.violation("it sent a data-source call without a call id");
      return;
    }
    void this.answer(parsed.data.call, parsed.data.request);
  }

  private async answer(call: string, raw: unknown): Promise<void> {
    const { executionId: target, by } = this;
    const reply = (message: object) => this.connection.send({ target, call, by, ...message }).catch(() => undefined);
    if (this.running) {
      await reply({ op: "call-error", error: { code: "bad-request", message: "One data-source call at a time." } });
      return;
    }
    const request = sessionCallSchema.safeParse(raw);
    if (!request.success) {
      await reply({ op: "call-error", error: { code: "bad-request", message: `The call was refused: ${request.error.issues[0]?.message ?? "malformed"}.` } });
      return;
    }
    if (!this.handler) {
      await reply({ op: "call-error", error: { code: "not-allowed", message: NO_SOURCES } });
      return;
    }
    const cancel = new AbortController();
    const signal = AbortSignal.any([cancel.signal, this.ended.signal]);
    this.running = { call, cancel };
    try {
      const sink = {
        write: async (chunk: Buffer) => {
          if (signal.aborted) throw new CallFailure("cancelled", "The execution ended before the answer was sent.");
          for (let start = 0; start < chunk.length; start += CALL_CHUNK_BYTES) {
            await this.connection.send({ op: "call-data", target, call, by }, chunk.subarray(start, start + CALL_CHUNK_BYTES));
          }
        },
      };
      const end = await this.handler(request.data, sink, { signal, deadline: this.deadline });
      // Ended even when the sandbox asked to stop (it answers the session with why); never after the execution.
      if (!this.ended.signal.aborted) await reply({ op: "call-end", end });
    } catch (error) {
      const failure = error instanceof CallFailure ? error : new CallFailure("failed", "The data-source call failed in codebot (its log has the details).");
      if (!(error instanceof CallFailure)) this.log.error({ err: error, call }, "a data-source call failed");
      if (!this.ended.signal.aborted) await reply({ op: "call-error", error: { code: failure.code, message: failure.message, ...failure.details } });
    } finally {
      this.running = undefined;
    }
  }
}
