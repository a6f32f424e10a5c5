import type { Redis } from "ioredis";
import type { Keys } from "../redis/redis-keys.js";
import { PERIOD_KINDS, periodsAt, type PeriodKind } from "../core/calendar-periods.js";
import { BudgetPolicy, METRICS, SUBJECT_KINDS, type BudgetLimits, type BudgetPolicyConfig, type SubjectKind } from "./budget-policy.js";
import { BudgetStore } from "./budget-store.js";
import type { BudgetUse } from "./budget-use.js";

/** Subjects of each kind a report lists by default: those nearest their limits. */
export const REPORT_TOP = 20;

export interface BudgetReportRow {
  id: string;
  day: BudgetUse;
  month: BudgetUse;
  /** The largest share of any set limit used (1: used up, refused from now); 0 with no limit set. */
  share: number;
}

export interface BudgetReport {
  timeZone: string;
  periods: Record<PeriodKind, { key: string; resetsAt: string }>;
  /** The configured limits (0: none). */
  limits: Record<SubjectKind, BudgetLimits>;
  exempt: readonly string[];
  /** Per kind, the subjects that used anything this month, nearest their limits first. */
  users: BudgetReportRow[];
  channels: BudgetReportRow[];
}

function shareOf(use: Record<PeriodKind, BudgetUse>, limits: BudgetLimits): number {
  let share = 0;
  for (const period of PERIOD_KINDS) for (const metric of METRICS) if (limits[period][metric] > 0) share = Math.max(share, use[period][metric] / limits[period][metric]);
  return share;
}

/**
 * Today's and this month's use of the users and channels nearest their limits, against the limits
 * of config: what `codebot usage budgets` prints, and what an admin page can call.
 */
export async function budgetReport(redis: Redis, keys: Keys, config: BudgetPolicyConfig, now = Date.now(), top = REPORT_TOP): Promise<BudgetReport> {
  const policy = new BudgetPolicy(config);
  const store = new BudgetStore(redis, keys);
  const periods = periodsAt(now, policy.timeZone);
  const rows = async (kind: SubjectKind): Promise<BudgetReportRow[]> => {
    // Whoever used anything today used it this month too (the day is inside the month).
    const subjects = await store.subjects(kind, periods.month);
    const uses = await store.read(subjects, periods);
    return subjects
      .map((subject) => {
        const use = uses.get(subject) ?? { day: { tokens: 0, execSeconds: 0 }, month: { tokens: 0, execSeconds: 0 } };
        return { id: subject.slice(kind.length + 1), ...use, share: shareOf(use, policy.limits[kind]) };
      })
      .sort((a, b) => b.share - a.share || b.month.tokens - a.month.tokens || b.month.execSeconds - a.month.execSeconds)
      .slice(0, top);
  };
  const [users, channels] = await Promise.all(SUBJECT_KINDS.map(rows));
  return {
    timeZone: policy.timeZone,
    periods: { day: { key: periods.day.key, resetsAt: new Date(periods.day.endsAt).toISOString() }, month: { key: periods.month.key, resetsAt: new Date(periods.month.endsAt).toISOString() } },
    limits: policy.limits,
    exempt: config.BUDGET_EXEMPT_USERS,
    users: users ?? [],
    channels: channels ?? [],
  };
}
