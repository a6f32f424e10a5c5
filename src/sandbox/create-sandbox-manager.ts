import type { Redis } from "ioredis";
import type { RedisConfig, SandboxConfig, WorkspaceConfig } from "../config.js";
import type { Logger } from "../log.js";
import { keys } from "../redis/redis-keys.js";
import { CountedSessionCapacity } from "./counted-session-capacity.js";
import { RedisSessionCapacity } from "./redis-session-capacity.js";
import { limitsFromConfig, type SandboxLimits } from "./sandbox-limits.js";
import { SandboxManager } from "./sandbox-manager.js";
import type { SandboxProvider } from "./sandbox-provider.js";
import type { SessionEvents } from "./session-events.js";
import type { SessionHooks, SessionPlacement } from "./session-hooks.js";
import { sessionNaming, type SessionNaming } from "./session-naming.js";

/** The sandbox section, the key prefix of its slots, and how long a session may take to go to sleep. */
export type SandboxManagerConfig = SandboxConfig & Pick<RedisConfig, "QUEUE_PREFIX"> & Pick<WorkspaceConfig, "WORKSPACE_SLEEP_TIMEOUT_SECONDS">;

/** One engine of a fleet (SANDBOX_HOSTS), as its manager knows it: its name, its own slots under its key, its places in the fleet's catalog. */
export interface EngineHost {
  name: string;
  key: string;
  maxSessions?: number;
  placement?: SessionPlacement;
}

/** What the layers above add to an engine's manager (src/app/sandboxes.ts). */
export interface SandboxExtras {
  /** Durable workspaces: what a fresh session and an evicted one await. */
  hooks?: SessionHooks;
  /** Told of the sessions' lives (metrics, workspaces). */
  events?: SessionEvents;
  /** When an unused sandbox ends itself; default SANDBOX_IDLE_TIMEOUT_SECONDS. */
  sandboxIdleSeconds?: number;
}

/** What a backend is handed to build one engine's provider: the settings every backend shares, worked out once. */
export interface ProviderSetup {
  /** The sandbox section (SANDBOX_*). */
  config: SandboxConfig;
  /** The sandboxes' names, the same in every process (session-naming.ts). */
  naming: SessionNaming;
  /** SANDBOX_* limits, with the idle timeout the sandbox ends itself after. */
  limits: SandboxLimits;
  /** Tagged with the component and, in a fleet, the host. */
  log: Logger;
}

/** A backend's way to reach one engine (src/sandbox/<backend>/): its provider, built from the shared setup. */
export type ProviderFactory = (setup: ProviderSetup) => SandboxProvider;

/**
 * A SandboxManager over one engine of any backend: what is the same on every backend (limits,
 * naming, slots, eviction, hooks, events, a fleet's catalog) is set here from the config; the
 * backend only gives its provider. With Redis (workers) session slots are shared and atomic; without
 * it (`codebot exec`) the backend's live sessions are counted.
 */
export function sandboxManagerOver(provide: ProviderFactory, config: SandboxManagerConfig, log: Logger, redis?: Redis, extra: SandboxExtras & { host?: EngineHost } = {}): SandboxManager {
  const { host } = extra;
  const sandboxLog = log.child({ component: "sandbox", ...(host ? { host: host.name } : {}) });
  const idleSeconds = extra.sandboxIdleSeconds ?? config.SANDBOX_IDLE_TIMEOUT_SECONDS;
  const limits = { ...limitsFromConfig(config), idleTimeoutSeconds: idleSeconds };
  const maxSessions = host?.maxSessions ?? config.SANDBOX_MAX_SESSIONS;
  const naming = sessionNaming(config.SANDBOX_NAMESPACE);
  const provider = provide({ config, naming, limits, log: sandboxLog });
  // With durable workspaces (hooks that put a session to sleep) one not running code loses nothing.
  const evictSeconds = extra.hooks ? 0 : config.SANDBOX_EVICT_IDLE_SECONDS;
  return new SandboxManager({
    provider,
    naming,
    limits,
    maxSessions,
    capacity: redis
      ? new RedisSessionCapacity(redis, {
          key: keys(config.QUEUE_PREFIX).sandboxSlots(config.SANDBOX_NAMESPACE, host?.key),
          maxSessions,
          maxPerOwner: config.SANDBOX_MAX_SESSIONS_PER_USER,
          expireMs: (idleSeconds + 60) * 1000,
          evictAfterMs: evictSeconds * 1000,
        })
      : new CountedSessionCapacity(maxSessions, async () => (await provider.listSessions()).length),
    // Without Redis nothing records when a session was used: none is ended for another.
    evictAfterSeconds: redis ? evictSeconds : undefined,
    hooks: extra.hooks,
    evictTimeoutMs: config.WORKSPACE_SLEEP_TIMEOUT_SECONDS * 1000,
    placement: host?.placement,
    events: extra.events,
    host: host?.name,
    log: sandboxLog,
  });
}
