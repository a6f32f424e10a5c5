import type { Redis } from "ioredis";
import type { Config } from "../../config.js";
import type { Logger } from "../../log.js";
import { keys } from "../../redis/redis-keys.js";
import { RedisSessionCapacity } from "../redis-session-capacity.js";
import { limitsFromConfig } from "../sandbox-limits.js";
import { SandboxManager } from "../sandbox-manager.js";
import type { SessionEvents } from "../session-events.js";
import type { SessionHooks, SessionPlacement } from "../session-hooks.js";
import { sessionNaming } from "../session-naming.js";
import { DockerProvider } from "./docker-provider.js";
import { DockerSessionCapacity } from "./docker-session-capacity.js";
import { dockerFor, type EngineAddress } from "./engine-client.js";
import { runtimeResolver } from "./runtime-detection.js";

/** What the layers above add to an engine's manager (see createSandboxes). */
export interface SandboxExtras {
  /** Durable workspaces: what a fresh session and an evicted one await. */
  hooks?: SessionHooks;
  /** Told of the sessions' lives (metrics, workspaces). */
  events?: SessionEvents;
  /** When an unused sandbox ends itself; default SANDBOX_IDLE_TIMEOUT_SECONDS. */
  containerIdleSeconds?: number;
  /** One engine of a fleet (SANDBOX_HOSTS): its address, its own slots under its key, and its places in the fleet's catalog. */
  host?: EngineAddress & { name: string; key: string; maxSessions?: number; placement?: SessionPlacement };
}

/**
 * A SandboxManager over a Docker engine, as configured: the engine from DOCKER_HOST (or the local
 * socket), or a fleet's host. The runtime (SANDBOX_RUNTIME) is asked of the engine at once, so it is
 * logged at start; a container start waits for the answer, and fails with its error
 * (RUNTIME_MISSING, DOCKER_UNAVAILABLE). With Redis (workers), session slots are shared and atomic;
 * without it (`codebot exec`), live containers are counted.
 */
export function createSandboxManager(config: Config, log: Logger, redis?: Redis, extra: SandboxExtras = {}): SandboxManager {
  const docker = dockerFor(extra.host);
  const sandboxLog = log.child({ component: "sandbox", ...(extra.host ? { host: extra.host.name } : {}) });
  const runtime = runtimeResolver(docker, config.SANDBOX_RUNTIME, config.SANDBOX_IMAGE, sandboxLog);
  runtime().catch(() => undefined); // reported where a container is started
  const idleSeconds = extra.containerIdleSeconds ?? config.SANDBOX_IDLE_TIMEOUT_SECONDS;
  const limits = { ...limitsFromConfig(config), idleTimeoutSeconds: idleSeconds };
  const maxSessions = extra.host?.maxSessions ?? config.SANDBOX_MAX_SESSIONS;
  const naming = sessionNaming(config.SANDBOX_NAMESPACE);
  const provider = new DockerProvider({
    docker,
    image: config.SANDBOX_IMAGE,
    runtime,
    runtimeSetting: config.SANDBOX_RUNTIME,
    namespace: config.SANDBOX_NAMESPACE,
    naming,
    limits,
    poolSize: config.SANDBOX_POOL_SIZE,
    log: sandboxLog,
  });
  const evictSeconds = evictAfterSeconds(config, extra);
  return new SandboxManager({
    provider,
    naming,
    limits,
    maxSessions,
    capacity: redis
      ? sessionCapacity(config, redis, idleSeconds, evictSeconds, extra.host)
      : new DockerSessionCapacity(maxSessions, async () => (await provider.listSessions()).length),
    // Without Redis nothing records when a session was used: none is ended for another.
    evictAfterSeconds: redis ? evictSeconds : undefined,
    hooks: extra.hooks,
    evictTimeoutMs: config.WORKSPACE_SLEEP_TIMEOUT_SECONDS * 1000,
    placement: extra.host?.placement,
    events: extra.events,
    host: extra.host?.name,
    log: sandboxLog,
  });
}

/**
 * Idle seconds after which a session may make room for a new one: with durable workspaces (hooks
 * that put it to sleep) none, as one not running code loses nothing; else SANDBOX_EVICT_IDLE_SECONDS.
 */
function evictAfterSeconds(config: Config, extra: SandboxExtras): number {
  return extra.hooks ? 0 : config.SANDBOX_EVICT_IDLE_SECONDS;
}

function sessionCapacity(config: Config, redis: Redis, containerIdleSeconds: number, evictSeconds: number, host?: SandboxExtras["host"]): RedisSessionCapacity {
  return new RedisSessionCapacity(redis, {
    key: keys(config.QUEUE_PREFIX).sandboxSlots(config.SANDBOX_NAMESPACE, host?.key),
    maxSessions: host?.maxSessions ?? config.SANDBOX_MAX_SESSIONS,
    maxPerOwner: config.SANDBOX_MAX_SESSIONS_PER_USER,
    expireMs: (containerIdleSeconds + 60) * 1000,
    evictAfterMs: evictSeconds * 1000,
  });
}
