import type Docker from "dockerode";
import { z } from "zod";
import type { Logger } from "../../log.js";
import { explainDockerError } from "./docker-errors.js";
import { SandboxError } from "../sandbox-error.js";

/** gVisor's OCI runtime, as Debian's `runsc` package and gVisor's own docs register it. */
export const GVISOR_RUNTIME = "runsc";

/** What the engine says about its runtimes (`docker info`), checked at the boundary. */
const engineInfoSchema = z.object({
  Runtimes: z.record(z.unknown()).nullish(),
  DefaultRuntime: z.string().min(1).nullish(),
});

export interface EngineRuntimes {
  /** Every runtime the engine lists, e.g. ["io.containerd.runc.v2", "runc", "runsc"]. */
  available: string[];
  /** The one a container gets when it names none. */
  defaultRuntime: string;
}

export interface RuntimeChoice {
  runtime: string;
  /** Why this one, for the log line at start. */
  reason: string;
}

export async function engineRuntimes(docker: Docker): Promise<EngineRuntimes> {
  const info = engineInfoSchema.parse(await docker.info());
  const available = Object.keys(info.Runtimes ?? {}).sort();
  return { available, defaultRuntime: info.DefaultRuntime ?? "runc" };
}

/**
 * SANDBOX_RUNTIME against what the engine has: `auto` takes gVisor when the engine lists it, else the
 * engine's default; any other value must be a runtime the engine lists.
 */
export function chooseRuntime(setting: string, engine: EngineRuntimes): RuntimeChoice {
  if (setting === "auto") {
    return engine.available.includes(GVISOR_RUNTIME)
      ? { runtime: GVISOR_RUNTIME, reason: "SANDBOX_RUNTIME=auto and the engine lists gVisor" }
      : { runtime: engine.defaultRuntime, reason: "SANDBOX_RUNTIME=auto, the engine's default: it lists no runsc (gVisor)" };
  }
  if (!engine.available.includes(setting)) {
    throw new SandboxError(
      "RUNTIME_MISSING",
      `SANDBOX_RUNTIME=${setting}, but the Docker engine has no runtime of that name (it lists ${engine.available.join(", ") || "none"}). ` +
        "Register it in /etc/docker/daemon.json and reload the engine, or set SANDBOX_RUNTIME=auto.",
    );
  }
  return { runtime: setting, reason: `SANDBOX_RUNTIME=${setting}` };
}

/**
 * The runtime sandboxes start under, asked of the engine once and then remembered; logged once.
 * A failure to reach the engine is not remembered, so the next container start asks again.
 */
export function runtimeResolver(docker: Docker, setting: string, image: string, log: Logger): () => Promise<string> {
  let resolved: Promise<string> | undefined;
  return () => {
    resolved ??= engineRuntimes(docker)
      .catch((error: unknown) => {
        throw explainDockerError(error, image);
      })
      .then((engine) => {
        const choice = chooseRuntime(setting, engine);
        log.info({ runtime: choice.runtime }, `sandboxes run under ${choice.runtime} (${choice.reason})`);
        return choice.runtime;
      })
      .catch((error: unknown) => {
        if (!(error instanceof SandboxError && error.code === "RUNTIME_MISSING")) resolved = undefined;
        throw error;
      });
    return resolved;
  };
}
