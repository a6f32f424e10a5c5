import type { Redis } from "ioredis";
import type { BudgetConfig, ExportConfig, SandboxConfig } from "../config.js";
import type { Logger } from "../log.js";
import type { Keys } from "../redis/redis-keys.js";
import type { WorkspaceStore } from "../workspace/workspace-store.js";
import { ExportQuota } from "./export-quota.js";
import { ThreadLog } from "./thread-log.js";
import { workspaceLogImages } from "./workspace-log-images.js";

/**
 * The export log as configured: text in Redis, images in the thread's workspace of the store (left
 * out without one), each person's bytes a day capped by EXPORT_LOG_MAX_MB_PER_USER_DAY (0: no cap).
 */
export function createThreadLog(config: ExportConfig & Pick<BudgetConfig, "BUDGET_TIMEZONE"> & Pick<SandboxConfig, "SANDBOX_NAMESPACE">, { redis, keys, store, log }: { redis: Redis; keys: Keys; store?: WorkspaceStore; log: Logger }): ThreadLog {
  return new ThreadLog(redis, keys, {
    images: store && workspaceLogImages(store, config.SANDBOX_NAMESPACE),
    quota: config.EXPORT_LOG_MAX_MB_PER_USER_DAY ? new ExportQuota(redis, keys, { bytesPerUserDay: config.EXPORT_LOG_MAX_MB_PER_USER_DAY * 1048576, timeZone: config.BUDGET_TIMEZONE }) : undefined,
    log,
  });
}
