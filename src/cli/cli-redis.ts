import type { Redis } from "ioredis";
import { createRedis } from "../redis/redis-connection.js";
import { CliError } from "./cli-error.js";

/** How long a command waits for Redis to answer before it says it can't be reached. */
export const REDIS_TIMEOUT_MS = 5000;

/** A Redis URL as it may be shown: without its password. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "REDIS_URL";
  }
}

/**
 * Resolves once Redis answers a PING; a CliError in one line (exit 2) when it doesn't within
 * timeoutMs. A command's connection waits for Redis forever otherwise (it has no per-command retry
 * limit), so every command that needs Redis asks this first.
 */
export async function reachRedis(redis: Redis, url: string, timeoutMs = REDIS_TIMEOUT_MS): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CliError(`Cannot reach Redis at ${redactUrl(url)}: is it running (REDIS_URL)?`)), timeoutMs);
  });
  try {
    await Promise.race([redis.ping(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A Redis connection that answers, for a one-shot command; see reachRedis. */
export async function connectRedis(url: string, timeoutMs = REDIS_TIMEOUT_MS): Promise<Redis> {
  const redis = createRedis(url);
  try {
    await reachRedis(redis, url, timeoutMs);
    return redis;
  } catch (error) {
    redis.disconnect();
    throw error;
  }
}

/**
 * A Redis connection if Redis answers within timeoutMs, else undefined (a refused connection is
 * known at once): for commands that work without Redis and share state with the workers when it is there.
 */
export async function optionalRedis(url: string, timeoutMs: number): Promise<Redis | undefined> {
  const redis = createRedis(url);
  let timer: NodeJS.Timeout | undefined;
  let onError: (() => void) | undefined;
  const unreachable = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
    onError = resolve;
    redis.once("error", onError);
  });
  try {
    const answered = await Promise.race([redis.ping().then(() => true, () => false), unreachable.then(() => false)]);
    if (answered) return redis;
    redis.disconnect();
    return undefined;
  } finally {
    clearTimeout(timer);
    if (onError) redis.off("error", onError);
  }
}
