import type Docker from "dockerode";
import { dockerStatus, explainDockerError } from "./docker-errors.js";
import { chooseRuntime, engineRuntimes } from "./runtime-detection.js";
import { SandboxError } from "../sandbox-error.js";

interface ErrnoFields {
  code?: string;
  address?: string;
  port?: number;
  hostname?: string;
}

/** Where a Docker client connects: unix:///var/run/docker.sock, tcp://10.0.0.5:2375… */
export function engineAddress(docker?: Docker): string {
  const modem = (docker as { modem?: { socketPath?: unknown; host?: string; port?: string | number; protocol?: string } } | undefined)?.modem;
  if (typeof modem?.socketPath === "string") return `unix://${modem.socketPath}`;
  if (modem?.host) return `${modem.protocol === "https" ? "https" : "tcp"}://${modem.host}${modem.port ? `:${modem.port}` : ""}`;
  const configured = process.env.DOCKER_HOST;
  return configured || "unix:///var/run/docker.sock";
}

/** The address a failed connection went to, as the error of the socket says it. */
function failedAddress(error: ErrnoFields): string | undefined {
  if (error.address && error.port) return `tcp://${error.address}:${error.port}`;
  if (error.address) return `unix://${error.address}`;
  return error.hostname;
}

/**
 * One sentence for a Docker engine that can't be reached (a SandboxError DOCKER_UNAVAILABLE, or the
 * socket's own error), naming where it was looked for and what to do; undefined for other errors.
 * For people running codebot (the CLI, the worker's log): chat users get the SandboxError's own text.
 */
export function engineUnreachableSentence(error: unknown, docker?: Docker): string | undefined {
  const known = error instanceof SandboxError && error.code === "DOCKER_UNAVAILABLE";
  const cause = ((known ? (error.cause ?? {}) : error) ?? {}) as ErrnoFields & { syscall?: string };
  // A socket that could not connect (not, say, a file that isn't there).
  const socketError = cause.syscall === "connect" || cause.syscall === "getaddrinfo";
  if (known ? !cause.code : !(socketError && explainDockerError(error, "") instanceof SandboxError)) return undefined;
  const where = failedAddress(cause) ?? engineAddress(docker);
  const code = cause.code ? ` (${cause.code})` : "";
  if (cause.code === "EACCES") return `The Docker engine at ${where} refuses this user${code}: add the user to the docker group (and log in again), or set DOCKER_HOST to an engine it may use.`;
  return `No Docker engine answers at ${where}${code}: start Docker, or set DOCKER_HOST to the engine's address.`;
}

/**
 * What keeps sandboxes from starting on this engine, checked once at a worker's start: the engine
 * doesn't answer (DOCKER_UNAVAILABLE, with the sentence above as its message), hasn't the image
 * (IMAGE_MISSING) or the runtime SANDBOX_RUNTIME names (RUNTIME_MISSING). Undefined when all is well.
 */
export async function sandboxSetupProblem(docker: Docker, image: string, runtimeSetting = "auto"): Promise<SandboxError | undefined> {
  try {
    await docker.ping();
    await docker.getImage(image).inspect();
    chooseRuntime(runtimeSetting, await engineRuntimes(docker));
    return undefined;
  } catch (error) {
    if (error instanceof SandboxError) return error; // RUNTIME_MISSING
    const unreachable = engineUnreachableSentence(error, docker);
    if (unreachable) return new SandboxError("DOCKER_UNAVAILABLE", unreachable, { cause: error });
    if (dockerStatus(error) === 404) {
      return new SandboxError("IMAGE_MISSING", `The sandbox image ${image} is not on the Docker engine at ${engineAddress(docker)}: build it with \`npm run sandbox:build\` (or \`docker compose build\`), or set SANDBOX_IMAGE.`, { cause: error });
    }
    const explained = explainDockerError(error, image);
    return explained instanceof SandboxError ? explained : new SandboxError("DOCKER_UNAVAILABLE", `The Docker engine at ${engineAddress(docker)} did not answer as expected: ${(error as Error).message}`, { cause: error });
  }
}
