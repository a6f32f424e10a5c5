import type { Failure, FailureCode } from "./reply.js";

/** A turn that ended for a reason a person should read; retry says whether trying again may help. */
export class TurnFailure extends Error {
  constructor(
    readonly code: FailureCode,
    message: string,
    readonly retry = false,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "TurnFailure";
  }

  get failure(): Failure {
    return { code: this.code, message: this.message };
  }
}

/** Failures whose cause is on codebot's side (its engine, store, model endpoint, a bug), not the person's. */
const OURS = new Set<FailureCode>(["INTERNAL", "SANDBOX_UNAVAILABLE", "MODEL_UNAVAILABLE"]);

/**
 * A failure as it is posted in chat: the plain sentence, and for failures on codebot's side the
 * request id, by which an admin finds the detail (kept out of chat) in the log.
 */
export function failureForPeople(failure: Failure, requestId: string): Failure {
  return OURS.has(failure.code) ? { ...failure, message: `${failure.message} (Request id: ${requestId})` } : failure;
}
