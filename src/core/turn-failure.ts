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
