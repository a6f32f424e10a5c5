import type { Redis } from "ioredis";
import type { Config } from "../config.js";
import type { ChatRequest } from "../core/chat-request.js";
import type { Logger } from "../log.js";
import type { Keys } from "../queue/queue-keys.js";
import { PERIOD_KINDS, periodsAt, systemClock, type Clock } from "./budget-periods.js";
import { BudgetPolicy, METRICS, subjectKey } from "./budget-policy.js";
import { BudgetStore, retention, type BudgetUse } from "./budget-store.js";
import { refusalText, type ExhaustedBudget } from "./budget-text.js";

export type BudgetVerdict = { ok: true } | { ok: false; refused: string; resetsAt: number };

/**
 * What the worker asks of budgets: `check` before a turn runs anything (the model, the sandbox),
 * `charge` with what it spent. A turn that goes over mid-way finishes; the next one is refused.
 */
export interface BudgetGate {
  check(request: ChatRequest): Promise<BudgetVerdict>;
  charge(request: ChatRequest, spend: Partial<BudgetUse>): Promise<void>;
}

/**
 * Budgets counted in Redis against the request's user and channel, with the limits of config. With
 * no limit set it only counts (for the usage history): `check` is then free, no Redis read at all.
 */
export class RedisBudgetGate implements BudgetGate {
  constructor(
    private readonly store: BudgetStore,
    private readonly policy: BudgetPolicy,
    private readonly options: { clock?: Clock; log?: Logger } = {},
  ) {}

  private now(): number {
    return (this.options.clock ?? systemClock)();
  }

  async check(request: ChatRequest): Promise<BudgetVerdict> {
    if (!this.policy.enabled || this.policy.isExempt(request)) return { ok: true };
    const now = this.now();
    const periods = periodsAt(now, this.policy.timeZone);
    const subjects = this.policy.subjects(request);
    const uses = await this.store.read(subjects.map(subjectKey), periods);
    const exhausted: ExhaustedBudget[] = [];
    for (const subject of subjects) {
      const use = uses.get(subjectKey(subject));
      for (const kind of PERIOD_KINDS) {
        for (const metric of METRICS) {
          const limit = subject.limits[kind][metric];
          if (limit > 0 && (use?.[kind][metric] ?? 0) >= limit) exhausted.push({ subject: subject.kind, metric, period: periods[kind], limit });
        }
      }
    }
    // Of several budgets used up, the one that resets last keeps the door shut (a tie: the month's).
    const binding = exhausted.sort((a, b) => b.period.endsAt - a.period.endsAt || (a.period.kind === "month" ? -1 : 0) - (b.period.kind === "month" ? -1 : 0))[0];
    if (!binding) return { ok: true };
    return { ok: false, refused: refusalText(binding, now, this.policy.timeZone), resetsAt: binding.period.endsAt };
  }

  /**
   * Counts a spend against the request's user and channel, for today and this month. The code has
   * run and the tokens are spent whatever happens here: a counter that can't be written is logged,
   * never the turn's failure.
   */
  async charge(request: ChatRequest, spend: Partial<BudgetUse>): Promise<void> {
    const now = this.now();
    const periods = periodsAt(now, this.policy.timeZone);
    try {
      await this.store.charge(this.policy.subjects(request).map(subjectKey), [periods.day, periods.month], { tokens: spend.tokens ?? 0, execSeconds: spend.execSeconds ?? 0 }, now);
    } catch (error) {
      this.options.log?.warn({ err: error, spend }, "could not count the turn against its budgets");
    }
  }
}

/**
 * The worker's budgets: always a gate, since usage is counted per user and channel (day and month,
 * kept USAGE_HISTORY_DAYS) whether or not a limit is set; it refuses only once some BUDGET_* limit is.
 */
export function createBudgetGate(redis: Redis, keys: Keys, config: Config, log?: Logger, clock?: Clock): BudgetGate {
  const policy = new BudgetPolicy(config);
  const historyDays = config.USAGE_HISTORY_DAYS;
  if (policy.enabled) log?.info({ limits: policy.limits, timeZone: policy.timeZone, exempt: config.BUDGET_EXEMPT_USERS.length, historyDays }, "budgets on: turns past a user's or channel's limit are refused");
  else log?.info({ timeZone: policy.timeZone, historyDays }, "usage counted per user and channel; no BUDGET_* limit is set, so nothing is refused");
  return new RedisBudgetGate(new BudgetStore(redis, keys, retention(historyDays)), policy, { clock, log });
}
