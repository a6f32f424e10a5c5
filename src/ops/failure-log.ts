import type { Redis } from "ioredis";
import { z } from "zod";
import type { Keys } from "../redis/redis-keys.js";

/** How many failed turns are kept; older ones fall off the end. */
export const FAILURES_KEPT = 200;

/**
 * One failed turn as the admin page lists it: when, its request id (to find its log lines), where
 * it came from and the failure's stable code and user-facing message. Never the user's text.
 */
export const failureEntrySchema = z.object({
  at: z.number().int(),
  requestId: z.string().max(300),
  platform: z.string().max(40),
  /** The conversation it came from (`slack:T1:C1:1700000000.0001`), for finding the thread. */
  thread: z.string().max(400),
  user: z.string().max(200),
  code: z.string().max(40),
  message: z.string().max(2000),
  attempt: z.number().int().min(1),
});
export type FailureEntry = z.infer<typeof failureEntrySchema>;

/** The newest failed turns in Redis, newest first. Writing never fails a turn: errors are the caller's to log. */
export class FailureLog {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  async record(entry: FailureEntry): Promise<void> {
    const bounded = failureEntrySchema.parse({ ...entry, message: entry.message.slice(0, 2000) });
    await this.redis.multi().lpush(this.keys.recentFailures, JSON.stringify(bounded)).ltrim(this.keys.recentFailures, 0, FAILURES_KEPT - 1).exec();
  }

  /** Up to limit entries, newest first; entries that don't parse (another version's) are left out. */
  async recent(limit = 50): Promise<FailureEntry[]> {
    const raw = await this.redis.lrange(this.keys.recentFailures, 0, Math.max(0, Math.min(limit, FAILURES_KEPT) - 1));
    return raw.flatMap((line) => {
      try {
        const parsed = failureEntrySchema.safeParse(JSON.parse(line));
        return parsed.success ? [parsed.data] : [];
      } catch {
        return [];
      }
    });
  }
}
