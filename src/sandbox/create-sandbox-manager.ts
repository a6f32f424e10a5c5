import Docker from "dockerode";
import type { Redis } from "ioredis";
import type { RedisConfig, SandboxConfig, WorkspaceConfig } from "../config.js";

/** The sandbox section, the key prefix of its slots, and how long a session may take to go to sleep. */
export type SandboxManagerConfig = SandboxConfig & Pick<RedisConfig, "QUEUE_PREFIX"> & Pick<WorkspaceConfig, "WORKSPACE_SLEEP_TIMEOUT_SECONDS">;
import type { Logger } from "../log.js";
import { keys } from "../redis/redis-keys.js";
import { SandboxManager, type SandboxManagerOptions } from "./sandbox-manager.js";
import { limitsFromConfig } from "./sandbox-limits.js";
import { runtimeResolver } from "./runtime-detection.js";
import { RedisSessionCapacity } from "./redis-session-capacity.js";

/**
 * The sandbox manager as configured: the engine from DOCKER_HOST (or the local socket). The runtime
 * (SANDBOX_RUNTIME) is asked of the engine at once, so it is logged at start; a container start
 * waits for the answer, and fails with its error (RUNTIME_MISSING, DOCKER_UNAVAILABLE).
 */
export function createSandboxManager(config: SandboxManagerConfig, log: Logger, redis?: Redis, extra: SandboxExtras = {}): SandboxManager {
  const docker = extra.host?.docker ?? new Docker();
  const sandboxLog = log.child({ component: "sandbox", ...(extra.host ? { host: extra.host.name } : {}) });
  const runtime = runtimeResolver(docker, config.SANDBOX_RUNTIME, config.SANDBOX_IMAGE, sandboxLog);
  runtime().catch(() => undefined); // reported where a container is started
  return new SandboxManager({
    docker,
    image: config.SANDBOX_IMAGE,
    runtime,
    namespace: config.SANDBOX_NAMESPACE,
    limits: { ...limitsFromConfig(config), idleTimeoutSeconds: extra.containerIdleSeconds ?? config.SANDBOX_IDLE_TIMEOUT_SECONDS },
    poolSize: config.SANDBOX_POOL_SIZE,
    maxSessions: extra.host?.maxSessions ?? config.SANDBOX_MAX_SESSIONS,
    // With Redis (workers), session slots are shared and atomic; without it (`codebot exec`), live containers are counted.
    capacity: redis && sessionCapacity(config, redis, extra.containerIdleSeconds ?? config.SANDBOX_IDLE_TIMEOUT_SECONDS, evictAfterSeconds(config, extra), extra.host),
    evictAfterSeconds: evictAfterSeconds(config, extra),
    onFreshSession: extra.onFreshSession,
    evict: extra.evict,
    evictTimeoutMs: config.WORKSPACE_SLEEP_TIMEOUT_SECONDS * 1000,
    place: extra.host?.place,
    log: sandboxLog,
  });
}

/**
 * Idle seconds after which a session may make room for a new one: with durable workspaces (an evict
 * hook that puts it to sleep) none, as one not running code loses nothing; else SANDBOX_EVICT_IDLE_SECONDS.
 */
function evictAfterSeconds(config: SandboxManagerConfig, extra: SandboxExtras): number {
  return extra.evict ? 0 : config.SANDBOX_EVICT_IDLE_SECONDS;
}

/** What durable workspaces add to a manager (see createSandboxes). */
export interface SandboxExtras extends Pick<SandboxManagerOptions, "onFreshSession" | "evict"> {
  /** When an unused sandbox ends itself; default SANDBOX_IDLE_TIMEOUT_SECONDS. */
  containerIdleSeconds?: number;
  /** One engine of a fleet (SANDBOX_HOSTS): its client, its own slots under its key, and how a session claims its place there. */
  host?: { name: string; key: string; docker: Docker; maxSessions?: number; place?: (sessionId: string) => Promise<void> };
}

function sessionCapacity(config: SandboxManagerConfig, redis: Redis, containerIdleSeconds: number, evictSeconds: number, host?: SandboxExtras["host"]): RedisSessionCapacity {
  return new RedisSessionCapacity(redis, {
    key: keys(config.QUEUE_PREFIX).sandboxSlots(config.SANDBOX_NAMESPACE, host?.key),
    maxSessions: host?.maxSessions ?? config.SANDBOX_MAX_SESSIONS,
    maxPerOwner: config.SANDBOX_MAX_SESSIONS_PER_USER,
    expireMs: (containerIdleSeconds + 60) * 1000,
    evictAfterMs: evictSeconds * 1000,
  });
}
