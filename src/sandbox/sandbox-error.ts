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
  /** The session's host is drained and it has no container there: the fleet places it on another. */
  | "HOST_DRAINED"
  /** A fleet placed the session on another host meanwhile: it is routed there. */
  | "SESSION_ELSEWHERE"
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

/** Codes whose messages codebot writes for the person: their session's files, their sessions. */
const FOR_PEOPLE = new Set<SandboxErrorCode>(["FILE_TOO_LARGE", "FILE_NOT_FOUND", "SESSION_LIMIT"]);

/**
 * Why something failed, in words fit for chat: the error's message where codebot wrote it for
 * people, else `fallback` (an engine's message may name its address or host paths: log it).
 */
export function reasonForPeople(error: unknown, fallback: string): string {
  return error instanceof SandboxError && FOR_PEOPLE.has(error.code) ? error.message : fallback;
}
