import type { Redis } from "ioredis";
import type { Config } from "../config.js";
import type { Logger } from "../log.js";
import type { Fleet } from "../fleet/fleet.js";
import type { SandboxEngine } from "../sandbox/sandbox-engine.js";
import type { Sandboxes } from "../sandbox/sandboxes.js";
import type { SessionBackend } from "../sandbox/session-backend.js";
import type { SessionEventHub } from "../sandbox/session-events.js";
import type { DurableSandboxes } from "../workspace/durable-sandboxes.js";

/**
 * The sandboxes as configured (built by src/app/sandboxes.ts): one engine per host, a fleet over
 * them with SANDBOX_HOSTS, durable workspaces unless WORKSPACE_STORE=none. Declared here, below the
 * composition root, so that the commands acting on sessions (exec, sessions, hosts) can name it.
 */
export interface SandboxRuntime {
  /** One manager per engine: the pool, reaping and session cap are per engine. */
  managers: SandboxEngine[];
  /** The first (the only one without SANDBOX_HOSTS). */
  manager: SandboxEngine;
  /** Present with SANDBOX_HOSTS: the catalog, placement and health over the managers. */
  fleet?: Fleet;
  /** Where sessions run: the fleet, or the one manager. */
  backend: SessionBackend;
  /** What turns use: durable workspaces over the backend, or the backend itself. */
  sandboxes: Sandboxes;
  /** Present when WORKSPACE_STORE is not `none`. */
  durable?: DurableSandboxes;
  /** The sessions' lives as they happen (pool claims, fresh, resumed, hibernated, evicted, ended): subscribe for metrics. */
  events: SessionEventHub;
}

/** How a command gets sandboxes: handed to it by src/app/cli.ts, so no command picks a backend itself. */
export interface SandboxFactory {
  /** The sandboxes as a worker has them; with Redis, slots (and a fleet's catalog) are shared with the workers. */
  runtime(config: Config, log: Logger, redis?: Redis): SandboxRuntime;
  /** One engine and nothing over it (no Redis, no workspaces, no fleet): `codebot exec` without --session. */
  engine(config: Config, log: Logger): SandboxEngine & Sandboxes;
}
