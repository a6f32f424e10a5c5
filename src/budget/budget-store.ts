import type { Redis } from "ioredis";
import { z } from "zod";
import type { Keys } from "../redis/redis-keys.js";
import { BudgetHolds } from "./budget-holds.js";
import type { BudgetUse, PeriodUse } from "./budget-use.js";
import type { BudgetPeriod, PeriodKind } from "../core/calendar-periods.js";

const DAY_MS = 24 * 3600 * 1000;

/** USAGE_HISTORY_DAYS's default. */
export const DEFAULT_HISTORY_DAYS = 90;

/** Month counters are kept at least this long after their month (13 months), so a month can be read beside the same month a year before. */
export const MONTH_KEPT_DAYS = 13 * 31;

/** How long a counter outlives its period (ms), per kind of period. */
export type Retention = Record<PeriodKind, number>;

/**
 * Days are kept `historyDays` after they end (the usage history; at least a day, which also covers
 * workers whose clocks run a little behind and still name the old day), months 13 months or that
 * long, whichever is longer. Past that, keys expire on their own: nothing sweeps.
 */
export function retention(historyDays = DEFAULT_HISTORY_DAYS): Retention {
  return { day: historyDays * DAY_MS, month: Math.max(MONTH_KEPT_DAYS, historyDays) * DAY_MS };
}

// Adds a spend to each period's counter of one subject and sets when each counter goes: all of one
// subject's keys in one script, so concurrent charges never lose an increment nor leave a key
// without its expiry. With a turn, what the turn's hold (see budget-holds.ts) still keeps back
// shrinks by the spend, and what the turn has spent grows. With a charge id, the spend counts once:
// an execution a worker replays after taking a turn over (the sandbox answers it from memory) was
// already paid for by the worker that ran it.
// KEYS: the n counters, the holds, the turn's set of charge ids. ARGV: tokens, exec ms, n, each
// counter's time to live (ms), the turn ('' none), the charge id ('' none), the set's time to live (ms).
const CHARGE = `
local n = tonumber(ARGV[3])
local turn, once = ARGV[4 + n], ARGV[5 + n]
if once ~= '' then
  if redis.call('SADD', KEYS[n + 2], once) == 0 then return 0 end
  redis.call('PEXPIRE', KEYS[n + 2], ARGV[6 + n])
end
for i = 1, n do
  redis.call('HINCRBY', KEYS[i], 'tokens', ARGV[1])
  redis.call('HINCRBY', KEYS[i], 'exec_ms', ARGV[2])
  redis.call('PEXPIRE', KEYS[i], ARGV[3 + i])
end
if turn ~= '' then
  local entry = redis.call('HGET', KEYS[n + 1], turn)
  local t, e, x, s = string.match(entry or '', '^(%d+) (%d+) (%d+) (%d+)$')
  if x then
    local tokens, ms = tonumber(ARGV[1]), tonumber(ARGV[2])
    redis.call('HSET', KEYS[n + 1], turn, string.format('%d %d %d %d', math.max(0, tonumber(t) - tokens), math.max(0, tonumber(e) - ms), tonumber(x), tonumber(s) + tokens))
  end
end
return 1
`;

/** How long a turn's charged execution ids are remembered: far longer than a turn and its takeovers and retries may last. */
const CHARGED_IDS_MS = 24 * 3600 * 1000;

/** Which turn a charge belongs to, and (for what may be replayed) its own id, counted once. */
export interface ChargeOptions {
  turn?: string;
  /** Counts the spend once per turn and id (an execution id); needs `turn`. */
  once?: string;
}

// Notes the subjects charged in a day (a key of its own, so each script stays in one hash slot).
// KEYS[1]: the day's index; ARGV: its time to live (ms), now (ms), then the subjects.
const SEEN = `
for i = 3, #ARGV do redis.call('ZADD', KEYS[1], ARGV[2], ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return #ARGV - 2
`;

const countersSchema = z.tuple([z.string().nullable(), z.string().nullable()]);
const membersSchema = z.array(z.string());

const useOf = (raw: unknown): BudgetUse => {
  const [tokens, execMs] = countersSchema.parse(raw);
  return { tokens: Number(tokens ?? 0), execSeconds: Number(execMs ?? 0) / 1000 };
};

/** The replies of a pipeline, the first error thrown. */
async function replies(pipeline: ReturnType<Redis["pipeline"]>): Promise<unknown[]> {
  const results = (await pipeline.exec()) ?? [];
  const failed = results.find(([error]) => error);
  if (failed?.[0]) throw failed[0];
  return results.map(([, value]) => value);
}

/**
 * Usage counters in Redis: per subject (a user, a channel) and period (a day, a month), a hash of
 * model tokens and execution milliseconds; per day, an index of the subjects charged. Budgets check
 * them, the admin page reads their history. Everything expires on its own (see `retention`), so a
 * new period starts from nothing without any sweeping.
 */
export class BudgetStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly kept: Retention = retention(),
  ) {}

  /**
   * Adds a spend to every subject's counters for the given periods, and notes the subjects in each
   * day's index; `now` (the caller's clock, which named the periods) sets their lifetimes. One
   * script per subject and one per day's index, all in one round trip. With `options.turn`, the
   * turn's holds shrink by the spend; with `options.once`, a spend already counted for that turn and
   * id is not counted again.
   */
  async charge(subjects: string[], periods: BudgetPeriod[], spend: BudgetUse, now: number, options: ChargeOptions = {}): Promise<void> {
    const tokens = Math.max(0, Math.round(spend.tokens));
    const execMs = Math.max(0, Math.round(spend.execSeconds * 1000));
    if (!subjects.length || !periods.length || (!tokens && !execMs)) return;
    const ttl = (period: BudgetPeriod) => String(Math.max(1, period.endsAt - now + this.kept[period.kind]));
    const turn = options.turn ?? "";
    const once = turn ? (options.once ?? "") : "";
    const pipeline = this.redis.pipeline();
    for (const subject of subjects) {
      const keys = [...periods.map((period) => this.keys.budget(subject, period.key)), this.keys.budgetHolds(subject), this.keys.budgetCharged(subject, turn)];
      pipeline.eval(CHARGE, keys.length, ...keys, String(tokens), String(execMs), String(periods.length), ...periods.map(ttl), turn, once, String(CHARGED_IDS_MS));
    }
    for (const day of periods.filter((period) => period.kind === "day")) pipeline.eval(SEEN, 1, this.keys.usageSubjects(day.key), ttl(day), String(now), ...subjects);
    await replies(pipeline);
  }

  /** The holds of running turns, on the same Redis and keys. */
  holds(): BudgetHolds {
    return new BudgetHolds(this.redis, this.keys);
  }

  /** Every subject's use in each of the periods, in one round trip. */
  async read(subjects: string[], periods: Record<PeriodKind, BudgetPeriod>): Promise<Map<string, PeriodUse>> {
    const uses = await this.readEach(subjects.flatMap((subject) => [{ subject, period: periods.day }, { subject, period: periods.month }]));
    return new Map(subjects.map((subject, i) => [subject, { day: uses[2 * i]!, month: uses[2 * i + 1]! }]));
  }

  /** The use of each subject in its period (zero where nothing was counted), in one round trip. */
  async readEach(entries: ReadonlyArray<{ subject: string; period: BudgetPeriod }>): Promise<BudgetUse[]> {
    if (!entries.length) return [];
    const pipeline = this.redis.pipeline();
    for (const { subject, period } of entries) pipeline.hmget(this.keys.budget(subject, period.key), "tokens", "exec_ms");
    return (await replies(pipeline)).map(useOf);
  }

  /** The subjects charged in each day, from the days' indexes (no SCAN), in one round trip. */
  async seen(days: readonly BudgetPeriod[]): Promise<string[][]> {
    if (!days.length) return [];
    const pipeline = this.redis.pipeline();
    for (const day of days) pipeline.zrange(this.keys.usageSubjects(day.key), 0, -1);
    return (await replies(pipeline)).map((members) => membersSchema.parse(members));
  }

  /** The subjects of a kind (`user`, `channel`) that have a counter for the period, for reports. */
  async subjects(kind: string, period: BudgetPeriod): Promise<string[]> {
    const pattern = this.keys.budget(`${kind}:*`, period.key);
    const head = this.keys.budget("", "").slice(0, -"}:".length);
    const found = new Set<string>();
    for await (const batch of this.redis.scanStream({ match: pattern, count: 500 })) {
      for (const key of batch as string[]) {
        const end = key.lastIndexOf("}:");
        if (key.startsWith(head) && end > head.length) found.add(key.slice(head.length, end));
      }
    }
    return [...found];
  }
}
