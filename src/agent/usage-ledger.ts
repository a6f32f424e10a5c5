import type { Redis } from "ioredis";
import type { Keys } from "../queue/queue-keys.js";

export interface TokenUsage {
  prompt: number;
  completion: number;
}

/** Tokens used, per user and per thread, as running totals in Redis hashes. */
export class UsageLedger {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  async record(userKey: string, threadKey: string, usage: TokenUsage): Promise<void> {
    const multi = this.redis.multi();
    for (const key of [this.keys.usage("user", userKey), this.keys.usage("thread", threadKey)]) {
      multi.hincrby(key, "prompt_tokens", usage.prompt).hincrby(key, "completion_tokens", usage.completion).hincrby(key, "requests", 1);
    }
    await multi.exec();
  }

  async totals(kind: "user" | "thread", id: string): Promise<Record<string, number>> {
    const raw = await this.redis.hgetall(this.keys.usage(kind, id));
    return Object.fromEntries(Object.entries(raw).map(([field, value]) => [field, Number(value)]));
  }
}
