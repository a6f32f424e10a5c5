import type { Redis } from "ioredis";
import type { OpsConfig } from "../config.js";
import type { Fleet } from "../fleet/fleet.js";
import type { Logger } from "../log.js";
import type { SandboxEngine } from "../sandbox/sandbox-engine.js";
import type { SessionEventHub } from "../sandbox/session-events.js";
import { SINGLE_HOST, type WorkerMetrics } from "./metrics.js";
import { startOpsServer } from "./ops-server.js";
import { engineCheck, Readiness, redisCheck } from "./readiness.js";

export interface WorkerOpsSources {
  redis: Redis;
  /** One manager per engine; with a fleet, in the order of its members. */
  managers: SandboxEngine[];
  fleet?: Fleet;
  /** The sessions' events (pool claims and lives), which the metrics subscribe to. */
  events: SessionEventHub;
  /** The turn queue's job counts (TurnWorker.jobCounts). */
  jobCounts(): Promise<Record<string, number>>;
  /** Sessions asleep in the workspace store; none without durable workspaces. */
  sleeping?(): Promise<number>;
}

export interface WorkerOps {
  close(): Promise<void>;
}

/**
 * The worker's ops side: its gauges read from the queue and the engines, pool claims named by
 * host, readiness (Redis and the engines: in a fleet one answering engine is enough, those away
 * are named), all served on METRICS_HOST:METRICS_PORT (0: not served; a taken port: a warning),
 * behind METRICS_TOKEN when it is set.
 */
export async function startWorkerOps(config: OpsConfig, log: Logger, metrics: WorkerMetrics, { redis, managers, fleet, events, jobCounts, sleeping }: WorkerOpsSources): Promise<WorkerOps> {
  const hosts = managers.map((manager, i) => ({ name: fleet?.members[i]?.spec.name ?? SINGLE_HOST, manager }));
  const unsubscribe = events.subscribe(metrics.sessions);
  metrics.collectFrom({
    jobCounts,
    sleeping,
    hosts: hosts.map(({ name, manager }) => ({ name, sessionCount: () => manager.sessionCount(), openSessionIds: () => manager.openSessionIds(), pooled: () => manager.pooled() })),
  });
  if (config.METRICS_PORT === 0) return { close: async () => unsubscribe() };
  const readiness = new Readiness([
    redisCheck(redis),
    ...hosts.map(({ name, manager }) => (fleet ? engineCheck(`docker:${name}`, manager, "docker") : engineCheck("docker", manager))),
  ]);
  const server = await startOpsServer({ registry: metrics.registry, readiness, log: log.child({ component: "ops" }), token: config.METRICS_TOKEN }, { port: config.METRICS_PORT, host: config.METRICS_HOST });
  return {
    async close() {
      await server?.close();
      readiness.close();
      unsubscribe();
    },
  };
}
