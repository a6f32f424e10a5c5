import type { BudgetGate } from "../budget/budget-gate.js";
import type { ChatRequest } from "../core/chat-request.js";
import { TurnFailure } from "../core/turn-failure.js";
import type { Logger } from "../log.js";
import type { TokenUsage } from "../core/token-usage.js";
import type { UsageLedger } from "./usage-ledger.js";

/**
 * What one turn spends, charged as it is spent: each model call as it ends and each execution as it
 * finishes go to the budgets and the usage ledger at once, so a turn that is stopped, fails, times
 * out or loses its worker has still paid for what it used. Charges don't hold the turn up (the next
 * model call doesn't wait for Redis); `settle` waits for them, then releases what the turn held
 * against its budgets. A charge that can't be written is logged, never the turn's failure.
 */
export class TurnSpending {
  private held = false;
  private modelCalls = 0;
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly deps: { budgets?: BudgetGate; ledger: UsageLedger; log: Logger },
    private readonly request: ChatRequest,
    private readonly threadKey: string,
  ) {}

  private get userKey(): string {
    return `${this.request.conversation.platform}:${this.request.user.id}`;
  }

  /** The turn's id in the budgets: its event id, the same for every worker that runs it. */
  private get turn(): string {
    return this.request.eventId;
  }

  /**
   * Admits the turn (refused: a TurnFailure to tell the person) and holds one turn's worth for it;
   * returns the tokens earlier attempts of the turn spent (0 unless a worker died running it).
   */
  async admit(): Promise<number> {
    const admission = await this.deps.budgets?.admit(this.request, this.turn);
    if (admission && !admission.ok) throw new TurnFailure("BUDGET_REACHED", admission.refused);
    this.held = admission?.held ?? false;
    return admission?.ok ? admission.spentTokens : 0;
  }

  /** A model call ended (completed or cut): its tokens count now, against budgets and in the ledger alike. */
  modelCall(usage: TokenUsage): void {
    this.modelCalls++;
    this.track(this.deps.ledger.record(this.userKey, this.threadKey, usage, 0));
    this.track(this.deps.budgets?.charge(this.request, { tokens: usage.prompt + usage.completion }, { turn: this.turn }));
  }

  /**
   * An execution finished: its seconds count now, once per execution id, so a result a worker that
   * took the turn over gets again from the sandbox (the code is not run twice) is not paid twice.
   */
  executed(executionId: string, durationMs: number): void {
    this.track(this.deps.budgets?.charge(this.request, { execSeconds: durationMs / 1000 }, { turn: this.turn, once: executionId }));
  }

  /** Waits until every charge so far is written (or has failed and been logged). */
  async flush(): Promise<void> {
    while (this.pending.size) await Promise.all(this.pending);
  }

  /** The turn ended, however it ended: its charges are written, the request counted, its hold released. */
  async settle(): Promise<void> {
    await this.flush();
    const ending: Array<Promise<void> | undefined> = [];
    if (this.modelCalls) ending.push(this.logged(this.deps.ledger.record(this.userKey, this.threadKey, { prompt: 0, completion: 0 }, 1)));
    if (this.held) ending.push(this.deps.budgets?.release(this.request, this.turn));
    this.held = false;
    await Promise.all(ending);
  }

  private track(charge: Promise<void> | undefined): void {
    if (!charge) return;
    const tracked = this.logged(charge).finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }

  private logged(write: Promise<void>): Promise<void> {
    return write.catch((error: unknown) => this.deps.log.warn({ err: error }, "could not record a turn's usage"));
  }
}
