import type { AnswerEvent } from "../core/answer-events.js";
import type { ChatRequest } from "../core/chat-request.js";
import type { Delivery } from "../core/reply.js";
import type { Logger } from "../log.js";

/**
 * Passes a turn's answer events to the delivery in order without holding up the model's stream
 * (each adapter paces its own platform calls). A delivery that fails to show progress never fails
 * the turn: the answer still comes, in full, at the end.
 */
export class EventRelay {
  private chain: Promise<void> = Promise.resolve();
  private failed = false;

  constructor(
    private readonly delivery: Delivery,
    private readonly request: ChatRequest,
    private readonly log: Logger,
  ) {}

  readonly emit = (event: AnswerEvent): void => {
    if (this.failed) return;
    this.chain = this.chain
      .then(() => this.delivery.event(this.request, event))
      .catch((error: unknown) => {
        this.failed = true;
        this.log.warn({ err: error, requestId: this.request.eventId }, "could not show the answer as it was written; it comes whole at the end");
      });
  };

  /** Resolves once every event so far has been handed to the delivery. */
  settled(): Promise<void> {
    return this.chain;
  }
}
