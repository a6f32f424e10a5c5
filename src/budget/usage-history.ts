import type { Redis } from "ioredis";
import type { BudgetConfig } from "../config.js";
import type { Keys } from "../redis/redis-keys.js";
import { periodsAt, type BudgetPeriod } from "../core/calendar-periods.js";
import type { SubjectKind } from "./budget-policy.js";
import { BudgetStore } from "./budget-store.js";
import type { BudgetUse } from "./budget-use.js";

/** Days the admin page shows, today included. */
export const HISTORY_DAYS_SHOWN = 14;
/** Users and channels it lists, most tokens first. */
export const HISTORY_TOP = 10;

export interface HistoryDay {
  /** The zone's calendar date, `2025-01-31`. */
  date: string;
  startsAt: number;
  /** Everyone's use that day (the users' sum: each charge counts against one user and one channel). */
  tokens: number;
  execSeconds: number;
  /** Users and channels that used anything that day. */
  users: number;
  channels: number;
}

export interface SubjectHistory {
  id: string;
  /** Over all the days shown. */
  total: BudgetUse;
  /** One per day, in the order of `UsageHistory.days`. */
  days: BudgetUse[];
}

export interface UsageHistory {
  timeZone: string;
  /** Oldest first; the last is today. */
  days: HistoryDay[];
  /** The top users and channels over those days, most tokens first. */
  users: SubjectHistory[];
  channels: SubjectHistory[];
}

/** The `count` calendar days up to the one `now` falls in, in the zone, oldest first (DST-proof: each is the day before the next's start). */
export function lastDays(now: number, timeZone: string, count: number): BudgetPeriod[] {
  const days = [periodsAt(now, timeZone).day];
  while (days.length < count) days.unshift(periodsAt(days[0]!.startsAt - 1, timeZone).day);
  return days;
}

const zero = (): BudgetUse => ({ tokens: 0, execSeconds: 0 });
/** Sums of seconds kept to whole milliseconds, as counted (no float dust: 0.1 + 0.2 is 0.3). */
const plus = (seconds: number, more: number) => Math.round((seconds + more) * 1000) / 1000;
const used = (use: BudgetUse) => use.tokens > 0 || use.execSeconds > 0;
const byMost = (a: SubjectHistory, b: SubjectHistory) => b.total.tokens - a.total.tokens || b.total.execSeconds - a.total.execSeconds || (a.id < b.id ? -1 : 1);

/**
 * Usage per day over the last days, and the top users and channels with their days: read from the
 * days' indexes of subjects and their day counters, two round trips whatever the keyspace holds.
 * Days older than USAGE_HISTORY_DAYS have expired, and read as nothing.
 */
export async function usageHistory(redis: Redis, keys: Keys, config: Pick<BudgetConfig, "BUDGET_TIMEZONE">, now = Date.now(), shown = HISTORY_DAYS_SHOWN, top = HISTORY_TOP): Promise<UsageHistory> {
  const timeZone = config.BUDGET_TIMEZONE;
  const store = new BudgetStore(redis, keys);
  const periods = lastDays(now, timeZone, shown);
  const seen = await store.seen(periods);
  const entries = periods.flatMap((period, day) => (seen[day] ?? []).map((subject) => ({ subject, period, day })));
  const uses = await store.readEach(entries);

  const days: HistoryDay[] = periods.map((period) => ({ date: period.key.slice("day:".length), startsAt: period.startsAt, tokens: 0, execSeconds: 0, users: 0, channels: 0 }));
  const subjects: Record<SubjectKind, Map<string, SubjectHistory>> = { user: new Map(), channel: new Map() };
  entries.forEach(({ subject, day }, i) => {
    const use = uses[i] ?? zero();
    const colon = subject.indexOf(":");
    const kind = subject.slice(0, colon);
    if ((kind !== "user" && kind !== "channel") || !used(use)) return;
    const id = subject.slice(colon + 1);
    let history = subjects[kind].get(id);
    if (!history) subjects[kind].set(id, (history = { id, total: zero(), days: periods.map(zero) }));
    history.days[day] = use;
    history.total.tokens += use.tokens;
    history.total.execSeconds = plus(history.total.execSeconds, use.execSeconds);
    const totals = days[day]!;
    if (kind === "channel") totals.channels += 1;
    else {
      totals.users += 1;
      totals.tokens += use.tokens;
      totals.execSeconds = plus(totals.execSeconds, use.execSeconds);
    }
  });
  const topOf = (kind: SubjectKind) => [...subjects[kind].values()].sort(byMost).slice(0, top);
  return { timeZone, days, users: topOf("user"), channels: topOf("channel") };
}
