/** Stable codes for what can go wrong around a sandbox (not inside it: the user's exception is data). */
export type SandboxErrorCode =
  | "DOCKER_UNAVAILABLE"
  | "IMAGE_MISSING"
  | "RUNTIME_MISSING"
  | "SESSION_LIMIT"
  | "SESSION_NOT_FOUND"
  | "SANDBOX_START_FAILED"
  | "RUNNER_UNRESPONSIVE"
  | "RUNNER_PROTOCOL"
  /** The session ended (idle, lifetime) before it read the request: safe to run it in a fresh one. */
  | "SESSION_ENDED"
  | "FILE_TOO_LARGE"
  | "FILE_NOT_FOUND"
  /** Moving files into or out of a sandbox took longer than its timeout: it was stopped. */
  | "TRANSFER_TIMEOUT";

export class SandboxError extends Error {
  constructor(
    readonly code: SandboxErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "SandboxError";
  }
}
