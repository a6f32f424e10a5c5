import type { ChatRequest } from "../core/chat-request.js";
import { threadKey } from "../core/chat-request.js";
import type { Delivery, Failure } from "../core/reply.js";
import type { Logger } from "../log.js";
import { auditTurn } from "./turn-audit.js";
import type { FailureLog } from "./failure-log.js";
import type { TurnMetrics, TurnOutcome } from "./turn-metrics.js";
import { TurnTally } from "./turn-tally.js";
import { TurnTimer } from "./turn-timer.js";

/** Where the turn worker reports each attempt's end. */
export interface TurnReporting {
  log: Logger;
  /** Counts and times turns (the worker's /metrics); none: not counted. */
  metrics?: TurnMetrics;
  /** Keeps the newest failed turns for the admin page; none: not kept. */
  failures?: FailureLog;
  /** LOG_CONTENT: the audit line carries the message's text and the user's name. */
  logContent?: boolean;
}

/**
 * One attempt of a turn, reported when it ends: its metrics (through TurnTimer), its audit line,
 * and, when it failed for good, an entry in the recent failures.
 */
export class TurnReport {
  /** Filled in by the turn handler as the attempt runs. */
  readonly tally = new TurnTally();
  private readonly timer: TurnTimer;

  constructor(
    private readonly reporting: TurnReporting,
    private readonly request: ChatRequest,
    private readonly attempt: number,
  ) {
    this.timer = new TurnTimer(reporting.metrics, request.receivedAt, attempt === 1);
  }

  watch(delivery: Delivery): Delivery {
    return this.timer.watch(delivery);
  }

  ended(outcome: TurnOutcome, failure?: Failure): void {
    const seconds = this.timer.ended(outcome, failure?.code);
    auditTurn(this.reporting.log, this.request, this.tally, { outcome, seconds, code: failure?.code, attempt: this.attempt }, this.reporting.logContent ?? false);
    if (outcome === "failed" && failure) recordFailure(this.reporting, this.request, failure, this.attempt);
  }
}

/** Adds a failed turn to the recent failures; a record that can't be written is logged, never the turn's failure. */
export function recordFailure(reporting: TurnReporting, request: ChatRequest, failure: Failure, attempt: number): void {
  if (!reporting.failures) return;
  const entry = {
    at: Date.now(),
    requestId: request.eventId,
    platform: request.conversation.platform,
    thread: threadKey(request.conversation),
    user: request.user.id,
    code: failure.code,
    message: failure.message,
    attempt,
  };
  reporting.failures.record(entry).catch((error: unknown) => reporting.log.warn({ err: error, requestId: request.eventId }, "could not record the failed turn for the admin page"));
}
