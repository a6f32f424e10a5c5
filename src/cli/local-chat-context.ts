import type { Config } from "../config.js";
import { LocalClient } from "../platforms/local/local-client.js";
import { keys } from "../queue/queue-keys.js";
import { createRedis } from "../queue/redis-connection.js";
import { TurnQueue } from "../queue/turn-queue.js";
import { CliError } from "./cli-error.js";

/** A Redis URL as it may be shown: without its password. */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "REDIS_URL";
  }
}

export interface LocalChatContext {
  client: LocalClient;
  /** Resolves once Redis answers; a CliError in one line when it doesn't within a few seconds. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

const REDIS_TIMEOUT_MS = 5000;

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
    async ready() {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new CliError(`Cannot reach Redis at ${redactUrl(config.REDIS_URL)}: is it running (REDIS_URL)?`)), REDIS_TIMEOUT_MS);
      });
      try {
        await Promise.race([redis.ping(), timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      await queue.close();
      redis.disconnect();
    },
  };
}
