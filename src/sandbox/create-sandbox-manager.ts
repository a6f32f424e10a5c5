import Docker from "dockerode";
import type { Config } from "../config.js";
import type { Logger } from "../log.js";
import { SandboxManager } from "./sandbox-manager.js";
import { limitsFromConfig } from "./sandbox-limits.js";

/** The sandbox manager as configured: the engine from DOCKER_HOST (or the local socket). */
export function createSandboxManager(config: Config, log: Logger): SandboxManager {
  return new SandboxManager({
    docker: new Docker(),
    image: config.SANDBOX_IMAGE,
    runtime: config.SANDBOX_RUNTIME,
    namespace: config.SANDBOX_NAMESPACE,
    limits: limitsFromConfig(config),
    poolSize: config.SANDBOX_POOL_SIZE,
    maxSessions: config.SANDBOX_MAX_SESSIONS,
    log: log.child({ component: "sandbox" }),
  });
}
