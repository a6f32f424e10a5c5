import type { ExecutionStatus } from "../core/execution-result.js";
import type { FailureCode } from "../core/reply.js";

/** How a turn's attempt ended: "retried" is an attempt given back to the queue to be tried again. */
export type TurnOutcome = "answered" | "failed" | "cancelled" | "retried";

/**
 * What the turn worker and the turn handler report as they run turns. The core depends on this
 * small interface only, never on prom-client: src/ops/metrics.ts implements it for the worker
 * process, and tests or the CLI simply pass none. Nothing here takes user text or ids.
 */
export interface TurnMetrics {
  /** A turn began, this long after its request was received (first attempt only). */
  turnStarted(queueWaitSeconds: number): void;
  /** The turn's first reply (a status or an answer event) went out, this long after the request was received. */
  firstReply(seconds: number): void;
  /** A turn's attempt ended; code for failures. */
  turnEnded(outcome: TurnOutcome, seconds: number, code?: FailureCode): void;
  /** One step of code ran in a sandbox. */
  executed(status: ExecutionStatus): void;
  /** Bytes of the user's attachments put in the sandbox. */
  filesIn(bytes: number): void;
  /** Bytes of files and images sent with answers. */
  filesOut(bytes: number): void;
}

/** What the agent loop reports of its model calls (labelled by model name, which is bounded). */
export interface ModelMetrics {
  /** A call answered, with the tokens it used. */
  modelCall(model: string, usage: { prompt: number; completion: number }): void;
  /** A call failed (after the SDK's retries); code: the failure it became. */
  modelError(model: string, code: FailureCode): void;
}
