import { Redis } from "ioredis";

/**
 * A Redis connection as BullMQ wants it for blocking commands (no per-request retry limit: a
 * command waits for Redis to come back instead of failing the job).
 */
export function createRedis(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false });
}
