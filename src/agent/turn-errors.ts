import { TurnFailure } from "../core/turn-failure.js";
import { SandboxError } from "../sandbox/sandbox-error.js";

/**
 * Any error of a turn as a TurnFailure: what to tell people, and whether trying again may help.
 * What people read is a plain sentence: an error's own message is shown only where codebot wrote
 * it for them (a session limit, their file too large or missing); engine addresses, store buckets,
 * host paths and stack text stay in the log (the error is the failure's cause), found there by the
 * request id the deliveries add (failureForPeople).
 */
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
        return new TurnFailure("SANDBOX_UNAVAILABLE", "The code sandbox isn't set up on this server: an admin can see why in the worker's log.", false, { cause: error });
      default:
        return new TurnFailure("SANDBOX_UNAVAILABLE", "The code sandbox is unavailable right now. Please try again in a moment.", true, { cause: error });
    }
  }
  return new TurnFailure("INTERNAL", "Something went wrong on codebot's side.", true, { cause: error });
}

/**
 * Why a turn ended early, as the thread's memory tells the model (never internal detail: the model
 * reads it, and may repeat it).
 */
export function cutReason(failure: TurnFailure): string {
  switch (failure.code) {
    case "CANCELLED":
      return "the request was stopped";
    case "BUDGET_REACHED":
      return "the request ran past its time limit";
    case "MODEL_UNAVAILABLE":
      return "the model could not be reached";
    case "SANDBOX_UNAVAILABLE":
      return "the code sandbox was unavailable";
    default:
      return "the request failed";
  }
}
