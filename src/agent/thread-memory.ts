import type { Redis } from "ioredis";
import type { ChatCompletionMessageParam } from "openai/resources/chat/completions";
import type { Keys } from "../redis/redis-keys.js";

const MAX_TURNS_KEPT = 100;
const TTL_SECONDS = 30 * 24 * 3600;

/** A rough token count (about 4 characters a token), enough to keep a history within a context window. */
export function estimateTokens(messages: ChatCompletionMessageParam[]): number {
  return Math.ceil(JSON.stringify(messages).length / 4);
}

/**
 * A thread's conversation in Redis, kept as whole turns (the user's message, the tool calls and
 * results, the answer) so trimming never separates a tool call from its result.
 */
export class ThreadMemory {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  private key(threadKey: string): string {
    return this.keys.thread(threadKey, "turns");
  }

  /** The most recent turns that fit in tokenBudget, oldest first. */
  async history(threadKey: string, tokenBudget: number): Promise<ChatCompletionMessageParam[]> {
    const stored = await this.redis.lrange(this.key(threadKey), 0, -1);
    const turns = stored.map((entry) => JSON.parse(entry) as ChatCompletionMessageParam[]);
    const kept: ChatCompletionMessageParam[][] = [];
    let used = 0;
    for (const turn of turns.reverse()) {
      used += estimateTokens(turn);
      if (used > tokenBudget) break;
      kept.unshift(turn);
    }
    return kept.flat();
  }

  /** Whether the thread has had turns before (kept for the memory's TTL). */
  async hasHistory(threadKey: string): Promise<boolean> {
    return (await this.redis.llen(this.key(threadKey))) > 0;
  }

  async append(threadKey: string, turn: ChatCompletionMessageParam[]): Promise<void> {
    const key = this.key(threadKey);
    await this.redis.multi().rpush(key, JSON.stringify(turn)).ltrim(key, -MAX_TURNS_KEPT, -1).expire(key, TTL_SECONDS).exec();
  }

  async clear(threadKey: string): Promise<void> {
    await this.redis.del(this.key(threadKey));
  }
}
