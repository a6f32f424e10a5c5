import type { Delivery, FailureCode } from "../core/reply.js";
import type { TurnMetrics, TurnOutcome } from "./turn-metrics.js";

/**
 * Times one attempt of a turn for the metrics: its queue wait (arrival to start), its first reply
 * (arrival to the first call on its delivery), its duration and outcome. Waits and first replies are
 * taken on the first attempt only: a retry's would count the failed attempt's time again.
 */
export class TurnTimer {
  private readonly startedAt = Date.now();

  constructor(
    private readonly metrics: TurnMetrics | undefined,
    private readonly receivedAt: number,
    private readonly firstAttempt: boolean,
  ) {
    if (firstAttempt) metrics?.turnStarted(this.sinceArrival());
  }

  /** The delivery, noting the first reply that goes through it (any call: a status, an answer event, the answer, a failure). */
  watch(delivery: Delivery): Delivery {
    const metrics = this.metrics;
    if (!metrics || !this.firstAttempt) return delivery;
    let replied = false;
    const first = () => {
      if (!replied) metrics.firstReply(this.sinceArrival());
      replied = true;
    };
    return {
      status: (request, update) => (first(), delivery.status(request, update)),
      event: (request, event) => (first(), delivery.event(request, event)),
      answer: (request, answer) => (first(), delivery.answer(request, answer)),
      fail: (request, failure) => (first(), delivery.fail(request, failure)),
    };
  }

  /** The attempt ended: counted, and its duration in seconds returned. */
  ended(outcome: TurnOutcome, code?: FailureCode): number {
    const seconds = (Date.now() - this.startedAt) / 1000;
    this.metrics?.turnEnded(outcome, seconds, code);
    return seconds;
  }

  private sinceArrival(): number {
    return (Date.now() - this.receivedAt) / 1000;
  }
}
