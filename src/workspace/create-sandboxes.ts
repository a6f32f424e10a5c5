import type { Redis } from "ioredis";
import type { Config } from "../config.js";
import type { Logger } from "../log.js";
import { createSandboxManager } from "../sandbox/create-sandbox-manager.js";
import type { SandboxManager } from "../sandbox/sandbox-manager.js";
import type { Sandboxes } from "../sandbox/sandboxes.js";
import { createWorkspaceStore } from "./create-workspace-store.js";
import { DurableSandboxes } from "./durable-sandboxes.js";
import { ThreadWorkspaces } from "./thread-workspaces.js";

export interface SandboxRuntime {
  manager: SandboxManager;
  /** What turns use: the manager itself, or durable workspaces over it. */
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

/** The sandboxes as configured: with durable thread workspaces unless WORKSPACE_STORE=none. */
export function createSandboxes(config: Config, log: Logger, redis?: Redis): SandboxRuntime {
  const store = createWorkspaceStore(config);
  if (!store) return withoutWorkspaces(createSandboxManager(config, log, redis));
  const workspaces = new ThreadWorkspaces({
    store,
    namespace: config.SANDBOX_NAMESPACE,
    maxBytes: config.WORKSPACE_MAX_MB * 1024 * 1024,
    maxStateBytes: config.WORKSPACE_MAX_STATE_MB * 1024 * 1024,
    maxFileBytes: config.SANDBOX_MAX_FILE_MB * 1024 * 1024,
    retentionDays: config.WORKSPACE_RETENTION_DAYS,
    log: log.child({ component: "workspace" }),
  });
  let durable: DurableSandboxes | undefined;
  const manager = createSandboxManager(config, log, redis, {
    containerIdleSeconds: containerIdleSeconds(config.SANDBOX_IDLE_TIMEOUT_SECONDS),
    onFreshSession: (sessionId, session) => durable!.prepare(sessionId, session),
    evict: (sessionId) => durable!.hibernate(sessionId, { evicted: true }),
  });
  durable = new DurableSandboxes({ manager, workspaces, idleTimeoutMs: config.SANDBOX_IDLE_TIMEOUT_SECONDS * 1000, log: log.child({ component: "workspace" }) });
  return { manager, sandboxes: durable, durable };
}

function withoutWorkspaces(manager: SandboxManager): SandboxRuntime {
  return { manager, sandboxes: manager };
}
