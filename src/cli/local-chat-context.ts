import type { QueueConfig, RedisConfig, SandboxConfig, TurnConfig } from "../config.js";

/** Redis and the queue's tries, and the limits of a request the local chat waits for. */
export type LocalChatConfig = RedisConfig & Pick<QueueConfig, "QUEUE_ATTEMPTS"> & Pick<SandboxConfig, "SANDBOX_MAX_FILE_MB"> & Pick<TurnConfig, "TURN_TIMEOUT_SECONDS">;
import { LocalClient } from "../platforms/local/local-client.js";
import { keys } from "../redis/redis-keys.js";
import { createRedis } from "../redis/redis-connection.js";
import { TurnQueue } from "../queue/turn-queue.js";
import { reachRedis, REDIS_TIMEOUT_MS } from "./cli-redis.js";

export interface LocalChatContext {
  client: LocalClient;
  /** Resolves once Redis answers; a CliError in one line when it doesn't within a few seconds. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

/**
 * What `codebot ask` and `codebot chat` need: Redis, the turn queue, and the local client on them.
 * Redis gets at most pickupTimeoutMs (and at most 5 s) to answer, so `ask --wait 3` ends within 3 s.
 */
export function openLocalChat(config: LocalChatConfig, pickupTimeoutMs: number): LocalChatContext {
  const redis = createRedis(config.REDIS_URL);
  const queue = new TurnQueue(redis, config.QUEUE_PREFIX, config.QUEUE_ATTEMPTS);
  const client = new LocalClient({
    redis,
    keys: keys(config.QUEUE_PREFIX),
    queue,
    maxFileBytes: config.SANDBOX_MAX_FILE_MB * 1024 * 1024,
    pickupTimeoutMs,
    turnTimeoutMs: (config.TURN_TIMEOUT_SECONDS + 60) * 1000,
  });
  return {
    client,
    ready: () => reachRedis(redis, config.REDIS_URL, Math.min(REDIS_TIMEOUT_MS, pickupTimeoutMs)),
    async close() {
      await queue.close();
      redis.disconnect();
    },
  };
}
