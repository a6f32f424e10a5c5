import type { ExecutionResult } from "../../src/core/execution-result.js";

/** An exception message that would be a heading, a phishing link and bold text if rendered as markdown. */
export const PHISHING = "# Admin notice\n[Re-enter your password](http://evil.example/login) **urgent**";

/** An execution whose every sandbox-controlled field carries the platform's mass mentions. */
export function hostileResult(pings: string): ExecutionResult {
  return {
    status: "error",
    stdout: `${pings}\n`,
    stderr: "",
    result: pings,
    error: { name: "ValueError", value: `${PHISHING} ${pings}`, traceback: `Traceback (most recent call last):\nValueError: ${PHISHING} ${pings}\n` },
    files: [],
    images: [],
    durationMs: 3,
    stateLost: false,
    notes: [pings],
  };
}
