import type { Redis } from "ioredis";
import type { LogConfig, QueueConfig, RedisConfig, TurnConfig } from "../config.js";
import type { Platform } from "../core/platform-names.js";
import type { Delivery } from "../core/reply.js";
import type { TurnHandler } from "../agent/turn-handler.js";
import type { Logger } from "../log.js";
import { FailureLog } from "../ops/failure-log.js";
import type { TurnMetrics } from "../ops/turn-metrics.js";
import type { Keys } from "../redis/redis-keys.js";
import type { ScheduledTurns } from "../schedules/scheduled-turns.js";
import type { CancelListener } from "./cancellation.js";
import { TurnWorker } from "./turn-worker.js";

/** What a worker's queue side is made over: the handler that runs a turn, and where its answers go. */
export interface TurnWorkerParts {
  redis: Redis;
  keys: Keys;
  handler: TurnHandler;
  deliveries: Partial<Record<Platform, Delivery>>;
  cancels: CancelListener;
  log: Logger;
  metrics?: TurnMetrics;
  /** Runs of schedules: judged before they run, headed, their outcomes recorded (#20). */
  scheduled?: ScheduledTurns;
}

/** The queue's worker as configured (WORKER_CONCURRENCY, QUEUE_LOCK_SECONDS, TURN_TIMEOUT_SECONDS, LOG_CONTENT), not started yet. */
export function createTurnWorker(config: QueueConfig & Pick<RedisConfig, "QUEUE_PREFIX"> & Pick<TurnConfig, "TURN_TIMEOUT_SECONDS"> & Pick<LogConfig, "LOG_CONTENT">, { redis, keys, handler, deliveries, cancels, log, metrics, scheduled }: TurnWorkerParts): TurnWorker {
  return new TurnWorker({
    redis,
    prefix: config.QUEUE_PREFIX,
    concurrency: config.WORKER_CONCURRENCY,
    lockSeconds: config.QUEUE_LOCK_SECONDS,
    turnTimeoutSeconds: config.TURN_TIMEOUT_SECONDS,
    handler,
    deliveries,
    cancels,
    log,
    metrics,
    failures: new FailureLog(redis, keys),
    logContent: config.LOG_CONTENT,
    scheduled,
  });
}
