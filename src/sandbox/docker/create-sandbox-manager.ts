import type { Redis } from "ioredis";
import type { Logger } from "../../log.js";
import { sandboxManagerOver, type EngineHost, type ProviderFactory, type SandboxExtras, type SandboxManagerConfig } from "../create-sandbox-manager.js";
import type { SandboxManager } from "../sandbox-manager.js";
import { DockerProvider } from "./docker-provider.js";
import { dockerFor, type EngineAddress } from "./engine-client.js";
import { runtimeResolver } from "./runtime-detection.js";

/**
 * Docker's provider factory: the engine at that address (a fleet's host), else the engine of
 * DOCKER_HOST or the local socket. The runtime (SANDBOX_RUNTIME) is asked of the engine at once, so
 * it is logged at start; a container start waits for the answer, and fails with its error
 * (RUNTIME_MISSING, DOCKER_UNAVAILABLE).
 */
export function dockerProviders(address?: EngineAddress): ProviderFactory {
  return ({ config, naming, limits, log }) => {
    const docker = dockerFor(address);
    const runtime = runtimeResolver(docker, config.SANDBOX_RUNTIME, config.SANDBOX_IMAGE, log);
    runtime().catch(() => undefined); // reported where a container is started
    return new DockerProvider({
      docker,
      image: config.SANDBOX_IMAGE,
      runtime,
      runtimeSetting: config.SANDBOX_RUNTIME,
      namespace: config.SANDBOX_NAMESPACE,
      naming,
      limits,
      poolSize: config.SANDBOX_POOL_SIZE,
      log,
    });
  };
}

/**
 * A SandboxManager over a Docker engine, as configured (sandboxManagerOver with Docker's provider):
 * the engine from DOCKER_HOST (or the local socket), or a fleet's host at its address.
 */
export function createSandboxManager(config: SandboxManagerConfig, log: Logger, redis?: Redis, extra: SandboxExtras & { host?: EngineHost & EngineAddress } = {}): SandboxManager {
  return sandboxManagerOver(dockerProviders(extra.host), config, log, redis, extra);
}
