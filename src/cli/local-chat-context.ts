import type { Config } from "../config.js";
import { LocalClient } from "../platforms/local/local-client.js";
import { keys } from "../queue/queue-keys.js";
import { createRedis } from "../queue/redis-connection.js";
import { TurnQueue } from "../queue/turn-queue.js";

export interface LocalChatContext {
  client: LocalClient;
  close(): Promise<void>;
}

/** What `codebot ask` and `codebot chat` need: Redis, the turn queue, and the local client on them. */
export function openLocalChat(config: Config, pickupTimeoutMs: number): LocalChatContext {
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
    async close() {
      await queue.close();
      redis.disconnect();
    },
  };
}
