import { TurnFailure } from "../core/turn-failure.js";
import { SandboxError } from "../sandbox/sandbox-error.js";

/** Any error of a turn as a TurnFailure: what to tell people, and whether trying again may help. */
export function asTurnFailure(error: unknown): TurnFailure {
  if (error instanceof TurnFailure) return error;
  if (error instanceof SandboxError) {
    switch (error.code) {
      case "SESSION_LIMIT":
        return new TurnFailure("SESSION_LIMIT", error.message, false, { cause: error });
      case "FILE_TOO_LARGE":
        return new TurnFailure("FILE_TOO_LARGE", error.message, false, { cause: error });
      case "FILE_NOT_FOUND":
        return new TurnFailure("FILE_UNAVAILABLE", error.message, false, { cause: error });
      case "RUNTIME_MISSING":
      case "IMAGE_MISSING":
        return new TurnFailure("SANDBOX_UNAVAILABLE", `The code sandbox isn't set up: ${error.message}`, false, { cause: error });
      default:
        return new TurnFailure("SANDBOX_UNAVAILABLE", `The code sandbox is unavailable right now (${error.message})`, true, { cause: error });
    }
  }
  const message = error instanceof Error ? error.message : String(error);
  return new TurnFailure("INTERNAL", `Something went wrong on codebot's side (${message}).`, true, { cause: error });
}
