import type { Redis } from "ioredis";
import { z } from "zod";
import type { Keys } from "../redis/redis-keys.js";

/** Days each day's call counts are kept (the admin page shows the last DAYS_SHOWN). */
const COUNTS_KEPT_DAYS = 8;
export const DAYS_SHOWN = 7;
/** Failed calls kept; older ones fall off the end. */
export const SOURCE_FAILURES_KEPT = 100;
const DAY_MS = 86_400_000;

/** Outcomes that are answers (the rest are failures; a call the execution's end cancelled is neither). */
const ANSWERED = new Set(["ok", "truncated"]);

export const sourceFailureSchema = z.object({
  at: z.number().int(),
  source: z.string().max(100),
  kind: z.string().max(10),
  code: z.string().max(40),
  message: z.string().max(500),
  user: z.string().max(200),
  thread: z.string().max(400),
  requestId: z.string().max(300),
});
export type SourceFailure = z.infer<typeof sourceFailureSchema>;

export interface SourceCounts {
  source: string;
  today: { ok: number; failed: number };
  week: { ok: number; failed: number };
}

const dayOf = (at: number) => `day:${new Date(at).toISOString().slice(0, 10)}`;

/**
 * Data-source calls as the admin page shows them (src/admin/): counts per UTC day, source and
 * outcome, and the newest failures. Workers write, the bot reads; writing never fails a call.
 */
export class SourceCallLog {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  async record(at: number, source: string, outcome: string, failure?: Omit<SourceFailure, "at" | "source" | "code">): Promise<void> {
    const key = this.keys.sourceCalls(dayOf(at));
    const multi = this.redis.multi().hincrby(key, `${source}\t${outcome}`, 1).expire(key, COUNTS_KEPT_DAYS * 86_400);
    if (failure && !ANSWERED.has(outcome) && outcome !== "cancelled") {
      const entry = sourceFailureSchema.parse({ ...failure, at, source, code: outcome, message: failure.message.slice(0, 500) });
      multi.lpush(this.keys.sourceFailures, JSON.stringify(entry)).ltrim(this.keys.sourceFailures, 0, SOURCE_FAILURES_KEPT - 1);
    }
    await multi.exec();
  }

  /** Calls per source, today and over the last DAYS_SHOWN days (UTC), most calls first. */
  async counts(now = Date.now()): Promise<SourceCounts[]> {
    const days = await Promise.all(Array.from({ length: DAYS_SHOWN }, (_, i) => this.redis.hgetall(this.keys.sourceCalls(dayOf(now - i * DAY_MS)))));
    const bySource = new Map<string, SourceCounts>();
    days.forEach((counts, i) => {
      for (const [field, value] of Object.entries(counts)) {
        const [source = "", outcome = ""] = field.split("\t");
        const row = bySource.get(source) ?? { source, today: { ok: 0, failed: 0 }, week: { ok: 0, failed: 0 } };
        bySource.set(source, row);
        const part = ANSWERED.has(outcome) ? "ok" : "failed";
        row.week[part] += Number(value) || 0;
        if (i === 0) row.today[part] += Number(value) || 0;
      }
    });
    return [...bySource.values()].sort((a, b) => b.week.ok + b.week.failed - (a.week.ok + a.week.failed));
  }

  /** Up to limit failures, newest first (entries of another version that don't parse are left out). */
  async failures(limit = 20): Promise<SourceFailure[]> {
    const raw = await this.redis.lrange(this.keys.sourceFailures, 0, Math.max(0, Math.min(limit, SOURCE_FAILURES_KEPT) - 1));
    return raw.flatMap((line) => {
      try {
        const parsed = sourceFailureSchema.safeParse(JSON.parse(line));
        return parsed.success ? [parsed.data] : [];
      } catch {
        return [];
      }
    });
  }
}
