import type { Redis } from "ioredis";
import { ConfigError, type Config } from "../config.js";
import type { Logger } from "../log.js";
import { Fleet } from "../fleet/fleet.js";
import { dockerFor } from "../fleet/host-docker.js";
import { hostKey, insecureHostWarning, parseHosts, type HostSpec } from "../core/host-spec.js";
import { HostStates } from "../fleet/host-states.js";
import { SessionCatalog } from "../fleet/session-catalog.js";
import { createSandboxManager, type SandboxExtras } from "../sandbox/create-sandbox-manager.js";
import type { SandboxManager } from "../sandbox/sandbox-manager.js";
import type { Sandboxes } from "../sandbox/sandboxes.js";
import type { SessionBackend } from "../sandbox/session-backend.js";
import { createWorkspaceStore } from "./create-workspace-store.js";
import { DurableSandboxes } from "./durable-sandboxes.js";
import { ThreadWorkspaces } from "./thread-workspaces.js";

export interface SandboxRuntime {
  /** One manager per engine: the pool, reaping and session cap are per engine. */
  managers: SandboxManager[];
  /** The first (the only one without SANDBOX_HOSTS). */
  manager: SandboxManager;
  /** Present with SANDBOX_HOSTS: the catalog, placement and health over the managers. */
  fleet?: Fleet;
  /** Where sessions run: the fleet, or the one manager. */
  backend: SessionBackend;
  /** What turns use: durable workspaces over the backend, or the backend itself. */
  sandboxes: Sandboxes;
  /** Present when WORKSPACE_STORE is not `none`. */
  durable?: DurableSandboxes;
}

/**
 * A sandbox that went idle without a worker around to put it to sleep ends itself this much later
 * than SANDBOX_IDLE_TIMEOUT_SECONDS (its files are saved already; its variables are then lost).
 */
export function containerIdleSeconds(idleSeconds: number): number {
  return idleSeconds + Math.max(120, Math.ceil(idleSeconds / 2));
}

/**
 * The sandboxes as configured: one engine (DOCKER_HOST) or a fleet (SANDBOX_HOSTS, which needs
 * Redis), with durable thread workspaces unless WORKSPACE_STORE=none.
 */
export function createSandboxes(config: Config, log: Logger, redis?: Redis): SandboxRuntime {
  const hosts = config.SANDBOX_HOSTS ? parseHosts(config.SANDBOX_HOSTS) : undefined;
  if (hosts && !redis) throw new ConfigError("SANDBOX_HOSTS: a fleet of hosts needs Redis (REDIS_URL) for its catalog.");
  const insecure = hosts && insecureHostWarning(hosts);
  if (insecure) log.warn(insecure);
  const store = createWorkspaceStore(config);
  let durable: DurableSandboxes | undefined;
  const extras: SandboxExtras = store
    ? {
        containerIdleSeconds: containerIdleSeconds(config.SANDBOX_IDLE_TIMEOUT_SECONDS),
        onFreshSession: (sessionId, session) => durable!.prepare(sessionId, session),
        evict: (sessionId) => durable!.hibernate(sessionId, { evicted: true }),
      }
    : {};
  let fleet: Fleet | undefined;
  const hostManager = (host: HostSpec) =>
    createSandboxManager(config, log, redis, {
      ...extras,
      host: { name: host.name, key: hostKey(host), docker: dockerFor(host), maxSessions: host.maxSessions, place: (sessionId) => fleet!.claimPlace(sessionId, host.name) },
    });
  const managers = hosts ? hosts.map(hostManager) : [createSandboxManager(config, log, redis, extras)];
  fleet =
    hosts && redis
      ? new Fleet({
          members: managers.map((manager, i) => ({ spec: hosts[i]!, manager, ping: () => manager.engine.ping() })),
          catalog: new SessionCatalog(redis, config.QUEUE_PREFIX, config.SANDBOX_NAMESPACE),
          states: new HostStates(redis, config.QUEUE_PREFIX, config.SANDBOX_NAMESPACE, config.SANDBOX_HOST_DOWN_AFTER),
          log: log.child({ component: "fleet" }),
        })
      : undefined;
  const backend: SessionBackend = fleet ?? managers[0]!;
  if (store) {
    const workspaces = new ThreadWorkspaces({
      store,
      namespace: config.SANDBOX_NAMESPACE,
      maxBytes: config.WORKSPACE_MAX_MB * 1024 * 1024,
      maxStateBytes: config.WORKSPACE_MAX_STATE_MB * 1024 * 1024,
      maxFileBytes: config.SANDBOX_MAX_FILE_MB * 1024 * 1024,
      maxFiles: config.WORKSPACE_MAX_FILES,
      retentionDays: config.WORKSPACE_RETENTION_DAYS,
      log: log.child({ component: "workspace" }),
    });
    durable = new DurableSandboxes({ manager: backend, workspaces, idleTimeoutMs: config.SANDBOX_IDLE_TIMEOUT_SECONDS * 1000, sleepTimeoutMs: config.WORKSPACE_SLEEP_TIMEOUT_SECONDS * 1000, log: log.child({ component: "workspace" }) });
  }
  return { managers, manager: managers[0]!, fleet, backend, sandboxes: durable ?? (backend as Sandboxes), durable };
}
