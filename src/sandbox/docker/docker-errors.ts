import { SandboxError } from "../sandbox-error.js";

/** The HTTP status of an error from the Docker engine's API (dockerode), if it is one. */
export function dockerStatus(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof status === "number" ? status : undefined;
}

/** Socket errors that mean the engine isn't there (or this user may not use it), not a failed request. */
const UNREACHABLE = ["ECONNREFUSED", "ENOENT", "EACCES", "ETIMEDOUT", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"];

/** Turns "can't reach the engine" and "no such image" into SandboxErrors a person can act on. */
export function explainDockerError(error: unknown, image: string): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code !== undefined && UNREACHABLE.includes(code)) {
    return new SandboxError(
      "DOCKER_UNAVAILABLE",
      `Cannot reach the Docker engine (${code}): is it running, and is DOCKER_HOST (or /var/run/docker.sock) right?`,
      { cause: error },
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  if (dockerStatus(error) === 404 && /no such image/i.test(message)) {
    return new SandboxError(
      "IMAGE_MISSING",
      `The sandbox image ${image} is not on this Docker engine: build it with \`npm run sandbox:build\` (or \`docker compose build\`).`,
      { cause: error },
    );
  }
  return error;
}
