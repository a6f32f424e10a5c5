import type { Redis } from "ioredis";
import type { Keys } from "../redis/redis-keys.js";
import { cleanModelName, feedbackRecordSchema, modelHash, type FeedbackRecord } from "./feedback-record.js";

/** Ratings kept per thread: the oldest go first (a thread of a thousand answers is rare). */
export const MAX_RATINGS_PER_THREAD = 500;
/** Entries of the cross-thread index of recent ratings. */
export const MAX_RECENT_RATINGS = 5000;
/**
 * A thread's ratings expire this long after its last rating, like the rest of a thread's data in
 * Redis; like the usage hashes, they are small and bounded while they live.
 */
export const FEEDBACK_RETENTION_DAYS = 90;
const RETENTION_SECONDS = FEEDBACK_RETENTION_DAYS * 24 * 3600;

/** Per model (or model hash, when its name is unknown): how its answers were rated. */
export interface ModelFeedback {
  model: string;
  up: number;
  down: number;
  /** up / (up + down). */
  ratio: number;
  /** Mean code steps of the rated answers, and of the liked and disliked ones. */
  meanSteps: number;
  meanStepsUp?: number;
  meanStepsDown?: number;
}

// KEYS: ratings hash, order zset. ARGV: field, record JSON, at, max per thread, ttl seconds.
// Returns 1 when the field held a rating already (replaced), else 0.
const RECORD = `
local existed = redis.call('HEXISTS', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
local surplus = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[4])
if surplus > 0 then
  local oldest = redis.call('ZRANGE', KEYS[2], 0, surplus - 1)
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, surplus - 1)
  redis.call('HDEL', KEYS[1], unpack(oldest))
end
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('EXPIRE', KEYS[2], ARGV[5])
return existed
`;

/** Tells a model's name to whoever reads ratings that carry only its hash (Discord's buttons). */
export async function rememberModelName(redis: Redis, keys: Keys, model: string): Promise<void> {
  const name = cleanModelName(model);
  if (name) await redis.hset(keys.feedbackModels, modelHash(name), name);
}

const mean = (values: number[]) => (values.length ? values.reduce((sum, value) => sum + value, 0) / values.length : undefined);

/**
 * Thumbs up/down on answers, in Redis under the app's prefix: per thread, one rating per person
 * per answer (a second click replaces the first), bounded per thread and in the recent index,
 * expiring with the thread's inactivity.
 */
export class FeedbackStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  /** Records a rating (zod-checked: it comes from a button click); "replaced" when it overwrote the person's earlier one. */
  async record(input: FeedbackRecord): Promise<"recorded" | "replaced"> {
    const record = feedbackRecordSchema.parse(input);
    const field = `${record.eventId} ${record.userId}`;
    const existed = await this.redis.eval(
      RECORD,
      2,
      this.keys.feedback(record.threadKey, "ratings"),
      this.keys.feedback(record.threadKey, "order"),
      field,
      JSON.stringify(record),
      String(record.at),
      String(MAX_RATINGS_PER_THREAD),
      String(RETENTION_SECONDS),
    );
    await this.redis
      .multi()
      .zadd(this.keys.feedbackRecent, record.at, `${record.threadKey} ${field}`)
      .zremrangebyrank(this.keys.feedbackRecent, 0, -(MAX_RECENT_RATINGS + 1))
      .expire(this.keys.feedbackRecent, RETENTION_SECONDS)
      .exec();
    return Number(existed) === 1 ? "replaced" : "recorded";
  }

  /** One thread's ratings, oldest first. */
  async thread(threadKey: string): Promise<FeedbackRecord[]> {
    const fields = await this.redis.zrange(this.keys.feedback(threadKey, "order"), 0, -1);
    if (!fields.length) return [];
    return this.parse(await this.redis.hmget(this.keys.feedback(threadKey, "ratings"), ...fields));
  }

  /** The newest ratings across threads, newest first (those expired or trimmed since are skipped). */
  async recent(limit = 20): Promise<FeedbackRecord[]> {
    const members = await this.redis.zrevrange(this.keys.feedbackRecent, 0, Math.max(0, limit - 1));
    const found = await Promise.all(
      members.map(async (member) => {
        const [threadKey = "", eventId = "", userId = ""] = member.split(" ");
        return this.parse([await this.redis.hget(this.keys.feedback(threadKey, "ratings"), `${eventId} ${userId}`)]);
      }),
    );
    return found.flat();
  }

  /** Every retained rating, for the per-model summary. */
  async all(): Promise<FeedbackRecord[]> {
    const found: FeedbackRecord[] = [];
    // The prefix is letters, digits, _ and - (config); braces are literal in a SCAN pattern.
    for await (const batch of this.redis.scanStream({ match: this.keys.feedback("*", "ratings"), count: 500 })) {
      for (const key of batch as string[]) found.push(...this.parse(await this.redis.hvals(key)));
    }
    return found;
  }

  /** Model names by hash, as rememberModelName stored them. */
  async modelNames(): Promise<Map<string, string>> {
    return new Map(Object.entries(await this.redis.hgetall(this.keys.feedbackModels)));
  }

  /** The model a rating is about: its name, the name its hash stands for, or the hash itself. */
  modelOf(record: FeedbackRecord, names: Map<string, string>): string {
    return record.model ?? (record.modelHash ? (names.get(record.modelHash) ?? `model#${record.modelHash}`) : "unknown model");
  }

  /** Per model: counts up and down, the ratio, mean steps; most rated first. */
  async summary(): Promise<ModelFeedback[]> {
    const names = await this.modelNames();
    const byModel = new Map<string, FeedbackRecord[]>();
    for (const record of await this.all()) {
      const model = this.modelOf(record, names);
      byModel.set(model, [...(byModel.get(model) ?? []), record]);
    }
    return [...byModel.entries()]
      .map(([model, records]) => {
        const up = records.filter((record) => record.rating === "up");
        const down = records.filter((record) => record.rating === "down");
        return {
          model,
          up: up.length,
          down: down.length,
          ratio: up.length / records.length,
          meanSteps: mean(records.map((record) => record.steps)) ?? 0,
          meanStepsUp: mean(up.map((record) => record.steps)),
          meanStepsDown: mean(down.map((record) => record.steps)),
        };
      })
      .sort((a, b) => b.up + b.down - (a.up + a.down) || a.model.localeCompare(b.model));
  }

  /** Stored JSON back to records; anything unreadable is skipped rather than failing a report. */
  private parse(values: Array<string | null>): FeedbackRecord[] {
    return values.flatMap((value) => {
      if (!value) return [];
      try {
        const parsed = feedbackRecordSchema.safeParse(JSON.parse(value));
        return parsed.success ? [parsed.data] : [];
      } catch {
        return [];
      }
    });
  }
}
