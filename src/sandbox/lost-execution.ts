import type { ExecutionResult } from "../core/execution-result.js";

/**
 * What an execution answers when its sandbox was lost under it and discarded: the sandbox broke the
 * protocol (sent something malformed or too large), or stopped. Its variables and files are gone.
 */
export function lostExecution(brokeProtocol: boolean, durationMs: number): ExecutionResult {
  return {
    status: "killed",
    stdout: "",
    stderr: "",
    files: [],
    images: [],
    durationMs,
    stateLost: true,
    notes: [
      brokeProtocol
        ? "The sandbox sent back something malformed or too large and was discarded: the next execution starts a fresh session (variables and files are lost)."
        : "The sandbox stopped unexpectedly and was discarded: the next execution starts a fresh session (variables and files are lost).",
    ],
  };
}
