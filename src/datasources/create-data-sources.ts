import type { Redis } from "ioredis";
import type { Logger } from "../log.js";
import type { Keys } from "../redis/redis-keys.js";
import { CallAudit, type SourceCallMetrics } from "./call-audit.js";
import { SourceCallLog } from "./call-log.js";
import type { DataSources } from "./data-sources.js";
import type { SourceConfig } from "./source-config.js";
import { SourceRegistry } from "./source-registry.js";

export interface DataSourcesSetup {
  log: Logger;
  logContent: boolean;
  metrics?: SourceCallMetrics;
  /** Where the admin page's counts and failures go; none: not recorded. */
  redis?: { redis: Redis; keys: Keys };
}

/**
 * The sources of DATA_SOURCES_FILE (loadDataSources read and checked them) behind the port, each
 * call audited; undefined without a file.
 */
export function createDataSources(configs: SourceConfig[] | undefined, setup: DataSourcesSetup): DataSources | undefined {
  if (!configs) return undefined;
  const callLog = setup.redis && new SourceCallLog(setup.redis.redis, setup.redis.keys);
  return new SourceRegistry(configs, { log: setup.log, audit: new CallAudit(setup.log, setup.logContent, setup.metrics, callLog) });
}
