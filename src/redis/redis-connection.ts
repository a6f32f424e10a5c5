import { Redis } from "ioredis";
import type { Logger } from "../log.js";

/**
 * A Redis connection as BullMQ wants it for blocking commands (no per-request retry limit: a
 * command waits for Redis to come back instead of failing the job). Connection errors are logged,
 * once per kind, while ioredis reconnects.
 */
export function createRedis(url: string, log?: Logger): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true });
  let lastError = "";
  redis.on("error", (error: Error) => {
    if (error.message === lastError) return;
    lastError = error.message;
    log?.warn({ err: error.message }, "Redis connection problem; reconnecting");
  });
  redis.on("ready", () => {
    lastError = "";
  });
  return redis;
}
