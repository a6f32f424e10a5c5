import type { ChatRequest } from "../core/chat-request.js";
import type { Delivery } from "../core/reply.js";
import type { Logger } from "../log.js";

/**
 * A turn's delivery whose status lines ("Thinking…", "Running code (step 2)…") don't hold the turn
 * up: each is handed to the platform in order, behind the ones before, while the turn goes on (the
 * model's call, the step's execution). Everything else (answer events, the answer, a failure) waits
 * for the status lines before it, so the platform sees the same order as before: a late status line
 * never overwrites the answer. A status line that can't be shown is logged, and the turn goes on
 * (the answer or failure that follows is what counts).
 */
export class StatusRelay implements Delivery {
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly delivery: Delivery,
    private readonly log: Logger,
  ) {}

  status(request: ChatRequest, update: Parameters<Delivery["status"]>[1]): Promise<void> {
    this.chain = this.chain.then(() =>
      this.delivery.status(request, update).catch((error: unknown) => this.log.warn({ err: error, requestId: request.eventId }, "could not show the turn's status; it goes on")),
    );
    return Promise.resolve();
  }

  event(request: ChatRequest, event: Parameters<Delivery["event"]>[1]): Promise<void> {
    return this.after(() => this.delivery.event(request, event));
  }

  answer(request: ChatRequest, answer: Parameters<Delivery["answer"]>[1]): Promise<void> {
    return this.after(() => this.delivery.answer(request, answer));
  }

  fail(request: ChatRequest, failure: Parameters<Delivery["fail"]>[1]): Promise<void> {
    return this.after(() => this.delivery.fail(request, failure));
  }

  /** Resolves once every status line handed over so far has been shown (or given up). */
  settled(): Promise<void> {
    return this.chain;
  }

  /** Runs send once the status lines before it are out; later ones wait for it in turn. */
  private after(send: () => Promise<void>): Promise<void> {
    const sent = this.chain.then(send);
    this.chain = sent.then(
      () => undefined,
      () => undefined,
    );
    return sent;
  }
}
