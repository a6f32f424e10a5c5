import type { Redis } from "ioredis";
import { z } from "zod";
import type { Keys } from "../queue/queue-keys.js";
import type { BudgetPeriod, PeriodKind } from "./budget-periods.js";

/** What a turn spent, or a subject has used in a period. */
export interface BudgetUse {
  tokens: number;
  execSeconds: number;
}

export type PeriodUse = Record<PeriodKind, BudgetUse>;

/**
 * How long a counter outlives its period: long enough for workers whose clocks run a little behind
 * (they still name the old period) and for yesterday's figures to be read, short enough that
 * Redis holds a few keys per subject at most.
 */
export const EXPIRY_MARGIN_MS = 24 * 3600 * 1000;

// Adds a spend to each period's counter of one subject and sets when each counter goes: all of one
// subject's keys in one script, so concurrent charges never lose an increment nor leave a key
// without its expiry. KEYS: the counters; ARGV: tokens, exec ms, then each key's time to live (ms).
const CHARGE = `
for i, key in ipairs(KEYS) do
  redis.call('HINCRBY', key, 'tokens', ARGV[1])
  redis.call('HINCRBY', key, 'exec_ms', ARGV[2])
  redis.call('PEXPIRE', key, ARGV[2 + i])
end
return #KEYS
`;

const countersSchema = z.tuple([z.string().nullable(), z.string().nullable()]);

const useOf = (raw: unknown): BudgetUse => {
  const [tokens, execMs] = countersSchema.parse(raw);
  return { tokens: Number(tokens ?? 0), execSeconds: Number(execMs ?? 0) / 1000 };
};

/**
 * Budget counters in Redis: per subject (a user, a channel) and period (a day, a month), a hash of
 * model tokens and execution milliseconds. Counters expire on their own a margin after their period
 * ends, so a new period starts from nothing without any sweeping.
 */
export class BudgetStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly marginMs = EXPIRY_MARGIN_MS,
  ) {}

  /**
   * Adds a spend to every subject's counters for the given periods; `now` (the caller's clock,
   * which named the periods) sets their lifetimes. One script per subject, all in one round trip.
   */
  async charge(subjects: string[], periods: BudgetPeriod[], spend: BudgetUse, now: number): Promise<void> {
    const tokens = Math.max(0, Math.round(spend.tokens));
    const execMs = Math.max(0, Math.round(spend.execSeconds * 1000));
    if (!subjects.length || !periods.length || (!tokens && !execMs)) return;
    const ttls = periods.map((period) => String(Math.max(1, period.endsAt - now + this.marginMs)));
    const pipeline = this.redis.pipeline();
    for (const subject of subjects) {
      pipeline.eval(CHARGE, periods.length, ...periods.map((period) => this.keys.budget(subject, period.key)), String(tokens), String(execMs), ...ttls);
    }
    const replies = (await pipeline.exec()) ?? [];
    const failed = replies.find(([error]) => error);
    if (failed?.[0]) throw failed[0];
  }

  /** Every subject's use in each of the periods, in one round trip. */
  async read(subjects: string[], periods: Record<PeriodKind, BudgetPeriod>): Promise<Map<string, PeriodUse>> {
    const pipeline = this.redis.pipeline();
    for (const subject of subjects) {
      pipeline.hmget(this.keys.budget(subject, periods.day.key), "tokens", "exec_ms");
      pipeline.hmget(this.keys.budget(subject, periods.month.key), "tokens", "exec_ms");
    }
    const replies = (await pipeline.exec()) ?? [];
    const uses = new Map<string, PeriodUse>();
    subjects.forEach((subject, i) => {
      const [dayError, day] = replies[2 * i] ?? [null, [null, null]];
      const [monthError, month] = replies[2 * i + 1] ?? [null, [null, null]];
      if (dayError || monthError) throw dayError ?? monthError;
      uses.set(subject, { day: useOf(day), month: useOf(month) });
    });
    return uses;
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
