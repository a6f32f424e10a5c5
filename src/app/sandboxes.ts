import type { Redis } from "ioredis";
import type { SandboxFactory, SandboxRuntime } from "../cli/sandbox-factory.js";
import { ConfigError, type Config } from "../config.js";
import { hostKey, insecureHostWarning, parseHosts, type HostSpec } from "../core/host-spec.js";
import { Fleet } from "../fleet/fleet.js";
import { HostStates } from "../fleet/host-states.js";
import { SessionCatalog } from "../fleet/session-catalog.js";
import type { Logger } from "../log.js";
import { sandboxManagerOver, type EngineHost, type ProviderFactory, type SandboxExtras } from "../sandbox/create-sandbox-manager.js";
import { dockerProviders } from "../sandbox/docker/create-sandbox-manager.js";
import { kubernetesProviders } from "../sandbox/kubernetes/kubernetes-providers.js";
import type { SandboxEngine } from "../sandbox/sandbox-engine.js";
import type { SandboxManager } from "../sandbox/sandbox-manager.js";
import type { Sandboxes } from "../sandbox/sandboxes.js";
import type { SessionBackend } from "../sandbox/session-backend.js";
import { SessionEventHub } from "../sandbox/session-events.js";
import { createWorkspaceStore } from "../workspace/create-workspace-store.js";
import { DurableSandboxes } from "../workspace/durable-sandboxes.js";
import { ThreadWorkspaces } from "../workspace/thread-workspaces.js";
import { WorkspaceHooks } from "../workspace/workspace-hooks.js";

export type { SandboxRuntime };

/** What a backend tells the layers above of its own accord: a session's sandbox about to be taken away (a Kubernetes pod evicted), to be saved now. */
interface BackendSignals {
  saveSession?: (sessionId: string) => Promise<unknown>;
}

/**
 * The backend sandboxes run on, for one engine: Kubernetes' (SANDBOX_BACKEND=kubernetes: a
 * namespace of pods) or Docker's (a fleet's host at its address, else the engine of the
 * environment). Nothing else in codebot names a backend.
 */
function providersFor(config: Config, host?: HostSpec, signals: BackendSignals = {}): ProviderFactory {
  if (config.SANDBOX_BACKEND === "kubernetes") return kubernetesProviders(config, signals.saveSession ? { onTerminating: signals.saveSession } : {});
  return dockerProviders(host && { address: host.address, tlsDir: host.tlsDir });
}

/** One engine's manager over the configured backend. */
function engineManager(config: Config, log: Logger, redis: Redis | undefined, extra: SandboxExtras & { host?: EngineHost }, spec?: HostSpec, signals?: BackendSignals): SandboxManager {
  return sandboxManagerOver(providersFor(config, spec, signals), config, log, redis, extra);
}


/**
 * A sandbox that went idle without a worker around to put it to sleep ends itself this much later
 * than SANDBOX_IDLE_TIMEOUT_SECONDS (its files are saved already; its variables are then lost).
 */
export function sandboxIdleSeconds(idleSeconds: number): number {
  return idleSeconds + Math.max(120, Math.ceil(idleSeconds / 2));
}

/**
 * The sandboxes as configured: one engine (the environment's: DOCKER_HOST) or a fleet (SANDBOX_HOSTS, which
 * needs Redis), with durable thread workspaces unless WORKSPACE_STORE=none. Everything is built in
 * order, bottom up: the workspaces' hooks and a fleet's catalog exist before the engines that call
 * them, and the durable layer is built over the backend last.
 */
export function createSandboxes(config: Config, log: Logger, redis?: Redis): SandboxRuntime {
  const hosts = config.SANDBOX_HOSTS ? parseHosts(config.SANDBOX_HOSTS) : undefined;
  if (hosts && !redis) throw new ConfigError("SANDBOX_HOSTS: a fleet of hosts needs Redis (REDIS_URL) for its catalog.");
  const insecure = hosts && insecureHostWarning(hosts);
  if (insecure) log.warn(insecure);
  const events = new SessionEventHub(log.child({ component: "sandbox" }));
  const store = createWorkspaceStore(config);
  const workspaceLog = log.child({ component: "workspace" });
  const hooks = store
    ? new WorkspaceHooks(
        new ThreadWorkspaces({
          store,
          namespace: config.SANDBOX_NAMESPACE,
          maxBytes: config.WORKSPACE_MAX_MB * 1024 * 1024,
          maxStateBytes: config.WORKSPACE_MAX_STATE_MB * 1024 * 1024,
          maxFileBytes: config.SANDBOX_MAX_FILE_MB * 1024 * 1024,
          maxFiles: config.WORKSPACE_MAX_FILES,
          retentionDays: config.WORKSPACE_RETENTION_DAYS,
          log: workspaceLog,
        }),
        events,
        workspaceLog,
      )
    : undefined;
  if (hooks) events.subscribe(hooks);
  const extras: SandboxExtras = { hooks, events, ...(hooks ? { sandboxIdleSeconds: sandboxIdleSeconds(config.SANDBOX_IDLE_TIMEOUT_SECONDS) } : {}) };
  const catalog = hosts && redis ? new SessionCatalog(redis, config.QUEUE_PREFIX, config.SANDBOX_NAMESPACE) : undefined;
  const hostManager = (host: HostSpec) =>
    engineManager(config, log, redis, { ...extras, host: { name: host.name, key: hostKey(host), maxSessions: host.maxSessions, placement: catalog?.placementOn(host.name) } }, host);
  // A pod evicted under its session is saved by the durable layer, which is built last: told through this.
  let durable: DurableSandboxes | undefined;
  const signals: BackendSignals = hooks ? { saveSession: async (sessionId) => durable?.hibernate(sessionId, {}) } : {};
  const managers: SandboxEngine[] = hosts ? hosts.map(hostManager) : [engineManager(config, log, redis, extras, undefined, signals)];
  const fleet =
    hosts && redis && catalog
      ? new Fleet({
          members: managers.map((manager, i) => ({ spec: hosts[i]!, manager })),
          catalog,
          states: new HostStates(redis, config.QUEUE_PREFIX, config.SANDBOX_NAMESPACE, config.SANDBOX_HOST_DOWN_AFTER),
          log: log.child({ component: "fleet" }),
        })
      : undefined;
  const backend: SessionBackend = fleet ?? managers[0]!;
  durable = hooks && new DurableSandboxes({ manager: backend, hooks, idleTimeoutMs: config.SANDBOX_IDLE_TIMEOUT_SECONDS * 1000, sleepTimeoutMs: config.WORKSPACE_SLEEP_TIMEOUT_SECONDS * 1000, log: workspaceLog });
  return { managers, manager: managers[0]!, fleet, backend, sandboxes: durable ?? (backend as Sandboxes), durable, events };
}

/** What src/app/cli.ts hands the commands that act on sessions (exec, sessions, hosts). */
export const sandboxFactory: SandboxFactory = {
  runtime: createSandboxes,
  engine: (config, log) => engineManager(config, log, undefined, {}),
};
