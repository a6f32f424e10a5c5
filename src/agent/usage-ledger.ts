import type { Redis } from "ioredis";
import type { TokenUsage } from "../core/token-usage.js";
import type { Keys } from "../redis/redis-keys.js";

/**
 * Tokens used, per user and per thread, as running totals in Redis hashes. The worker records each
 * model call as it ends (the same calls, and the same amounts, its budgets are charged), and counts
 * a request once its turn has ended (`requests`: turns that called the model).
 */
export class UsageLedger {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  async record(userKey: string, threadKey: string, usage: TokenUsage, requests = 1): Promise<void> {
    const multi = this.redis.multi();
    for (const key of [this.keys.usage("user", userKey), this.keys.usage("thread", threadKey)]) {
      if (usage.prompt) multi.hincrby(key, "prompt_tokens", usage.prompt);
      if (usage.completion) multi.hincrby(key, "completion_tokens", usage.completion);
      if (requests) multi.hincrby(key, "requests", requests);
    }
    await multi.exec();
  }

  /** Every user's or thread's totals, for `codebot usage`. */
  async all(kind: "user" | "thread"): Promise<Array<{ id: string; prompt_tokens: number; completion_tokens: number; requests: number }>> {
    const prefix = this.keys.usage(kind, "");
    const found: Array<{ id: string; prompt_tokens: number; completion_tokens: number; requests: number }> = [];
    for await (const batch of this.redis.scanStream({ match: `${prefix}*`, count: 500 })) {
      for (const key of batch as string[]) {
        const raw = await this.redis.hgetall(key);
        found.push({ id: key.slice(prefix.length), prompt_tokens: Number(raw.prompt_tokens ?? 0), completion_tokens: Number(raw.completion_tokens ?? 0), requests: Number(raw.requests ?? 0) });
      }
    }
    return found.sort((a, b) => b.prompt_tokens + b.completion_tokens - (a.prompt_tokens + a.completion_tokens));
  }
}
