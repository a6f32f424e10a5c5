import type { Redis } from "ioredis";
import { keys, type Keys } from "../redis/redis-keys.js";

/** A per-user budget of requests per minute, counted in Redis so every bot process shares it. */
export class RateLimiter {
  private readonly keys: Keys;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly perMinute: number,
  ) {
    this.keys = keys(prefix);
  }

  /** Counts one request; false when the user is over the limit (the request should be refused). */
  async take(userKey: string): Promise<boolean> {
    const window = Math.floor(Date.now() / 60_000);
    const key = this.keys.rate(userKey, window);
    const [[, count]] = (await this.redis.multi().incr(key).expire(key, 120).exec()) as [[Error | null, number]];
    return count <= this.perMinute;
  }
}
