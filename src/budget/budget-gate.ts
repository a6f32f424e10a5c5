import type { Redis } from "ioredis";
import type { ChatRequest } from "../core/chat-request.js";
import type { Logger } from "../log.js";
import type { Keys } from "../redis/redis-keys.js";
import { PERIOD_KINDS, periodsAt, systemClock, type Clock } from "../core/calendar-periods.js";
import { BudgetPolicy, METRICS, subjectKey, type BudgetPolicyConfig } from "./budget-policy.js";
import type { BudgetHolds } from "./budget-holds.js";
import { BudgetStore, retention, type ChargeOptions } from "./budget-store.js";
import type { BudgetUse } from "./budget-use.js";
import { heldText, refusalText, type ExhaustedBudget } from "./budget-text.js";

export type BudgetVerdict = { ok: true } | { ok: false; refused: string; resetsAt: number };

/**
 * A turn's admission. held: one turn's worth is held for it (limits apply), to release at its end;
 * spentTokens: what the turn spent before (an earlier worker ran it, then died), 0 for a new turn.
 */
export type Admission = { ok: true; held: boolean; spentTokens: number } | { ok: false; refused: string; resetsAt: number };

/**
 * What the worker asks of budgets: `admit` before a turn runs anything (the model, the sandbox),
 * which holds one turn's worth while it runs; `charge` with each spend as it happens (each model
 * call, each execution); `release` when the turn ends, however it ends. Concurrent turns of a user or
 * channel overshoot a limit by at most one turn's worth (see BudgetHolds); `check` only reads.
 */
export interface BudgetGate {
  check(request: ChatRequest): Promise<BudgetVerdict>;
  admit(request: ChatRequest, turn: string): Promise<Admission>;
  charge(request: ChatRequest, spend: Partial<BudgetUse>, options?: ChargeOptions): Promise<void>;
  release(request: ChatRequest, turn: string): Promise<void>;
}

const OK: Admission = { ok: true, held: false, spentTokens: 0 };

/**
 * Budgets counted in Redis against the request's user and channel, with the limits of config. With
 * no limit set it only counts (for the usage history): `check` and `admit` are then free, no Redis
 * read at all, and nothing is held.
 */
export class RedisBudgetGate implements BudgetGate {
  private readonly holds: BudgetHolds;

  constructor(
    private readonly store: BudgetStore,
    private readonly policy: BudgetPolicy,
    private readonly options: { clock?: Clock; log?: Logger } = {},
  ) {
    this.holds = store.holds();
  }

  private now(): number {
    return (this.options.clock ?? systemClock)();
  }

  async check(request: ChatRequest): Promise<BudgetVerdict> {
    const verdict = await this.decide(request);
    return verdict.ok ? { ok: true } : verdict;
  }

  admit(request: ChatRequest, turn: string): Promise<Admission> {
    return this.decide(request, turn);
  }

  /** Admits (holding for `turn`) or only checks; with neither limits nor an admission to make, no Redis at all. */
  private async decide(request: ChatRequest, turn?: string): Promise<Admission> {
    if (!this.policy.enabled || this.policy.isExempt(request)) return OK;
    const now = this.now();
    const periods = periodsAt(now, this.policy.timeZone);
    const subjects = this.policy.subjects(request);
    const hold = turn ? { id: turn, worth: this.policy.perTurn, expiresAt: now + this.policy.holdMs } : undefined;
    const admissions = await this.holds.admit(subjects.map((subject) => ({ subject: subjectKey(subject), limits: subject.limits })), periods, hold, now);
    if (admissions.every((admission) => admission.admitted)) return { ok: true, held: Boolean(turn), spentTokens: Math.max(0, ...admissions.map((admission) => admission.spentTokens)) };
    const used: ExhaustedBudget[] = [];
    const held: ExhaustedBudget[] = [];
    subjects.forEach((subject, i) => {
      const { use, held: others } = admissions[i]!;
      for (const kind of PERIOD_KINDS) {
        for (const metric of METRICS) {
          const limit = subject.limits[kind][metric];
          if (limit <= 0) continue;
          if (use[kind][metric] >= limit) used.push({ subject: subject.kind, metric, period: periods[kind], limit });
          else if (use[kind][metric] + others[metric] >= limit) held.push({ subject: subject.kind, metric, period: periods[kind], limit });
        }
      }
    });
    // Of several budgets used up, the one that resets last keeps the door shut (a tie: the month's);
    // only when none is used up is the refusal about what running turns hold.
    const binding = lastToReset(used) ?? lastToReset(held);
    if (!binding) return { ok: false, refused: "Your budget is used up for now. Nothing was run.", resetsAt: periods.day.endsAt };
    const refused = used.length ? refusalText(binding, now, this.policy.timeZone) : heldText(binding);
    return { ok: false, refused, resetsAt: binding.period.endsAt };
  }

  /**
   * Counts a spend against the request's user and channel, for today and this month, and (with
   * `options.turn`) takes it off what the turn holds. The code has run and the tokens are spent
   * whatever happens here: a counter that can't be written is logged, never the turn's failure.
   */
  async charge(request: ChatRequest, spend: Partial<BudgetUse>, options: ChargeOptions = {}): Promise<void> {
    const now = this.now();
    const periods = periodsAt(now, this.policy.timeZone);
    try {
      await this.store.charge(this.policy.subjects(request).map(subjectKey), [periods.day, periods.month], { tokens: spend.tokens ?? 0, execSeconds: spend.execSeconds ?? 0 }, now, options);
    } catch (error) {
      this.options.log?.warn({ err: error, spend }, "could not count a spend against its budgets");
    }
  }

  /** Frees what the turn held and didn't spend; one that can't be released lapses on its own (logged). */
  async release(request: ChatRequest, turn: string): Promise<void> {
    try {
      await this.holds.release(this.policy.subjects(request).map(subjectKey), turn);
    } catch (error) {
      this.options.log?.warn({ err: error }, "could not release a turn's budget hold; it lapses on its own");
    }
  }
}

function lastToReset(budgets: ExhaustedBudget[]): ExhaustedBudget | undefined {
  return budgets.sort((a, b) => b.period.endsAt - a.period.endsAt || (a.period.kind === "month" ? -1 : 0) - (b.period.kind === "month" ? -1 : 0))[0];
}

/**
 * The worker's budgets: always a gate, since usage is counted per user and channel (day and month,
 * kept USAGE_HISTORY_DAYS) whether or not a limit is set; it refuses only once some BUDGET_* limit is.
 */
export function createBudgetGate(redis: Redis, keys: Keys, config: BudgetPolicyConfig, log?: Logger, clock?: Clock): BudgetGate {
  const policy = new BudgetPolicy(config);
  const historyDays = config.USAGE_HISTORY_DAYS;
  if (policy.enabled) log?.info({ limits: policy.limits, timeZone: policy.timeZone, exempt: config.BUDGET_EXEMPT_USERS.length, historyDays }, "budgets on: turns past a user's or channel's limit are refused");
  else log?.info({ timeZone: policy.timeZone, historyDays }, "usage counted per user and channel; no BUDGET_* limit is set, so nothing is refused");
  if (policy.enabled) log?.debug({ perTurn: policy.perTurn, holdSeconds: policy.holdMs / 1000 }, "each running turn holds one turn's worth against its user's and channel's limits");
  return new RedisBudgetGate(new BudgetStore(redis, keys, retention(historyDays)), policy, { clock, log });
}
