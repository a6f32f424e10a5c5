import { displayName, formatCount } from "../core/display-text.js";
import type { ExecutionResult } from "../core/execution-result.js";
import { callsSummary } from "./source-calls-text.js";

/** Characters of a step's one-line outcome. */
const MAX_OUTCOME = 120;

const STATUS_WORDS: Record<ExecutionResult["status"], string> = {
  ok: "done",
  error: "error",
  timeout: "timed out",
  oom: "ran out of memory",
  killed: "stopped",
  cancelled: "cancelled",
};

function firstLine(text: string): string {
  return text.trim().split("\n", 1)[0] ?? "";
}

/**
 * A code step's outcome in one plain line, for the step's row in the answer ("done · 42",
 * "error · KeyError: 'date'", "done · 2 charts, 1 file"). The sandbox's words, clipped and made one
 * line; the adapters still escape it for their platform.
 */
export function stepOutcome(result: ExecutionResult): string {
  const parts: string[] = [STATUS_WORDS[result.status]];
  // The data the step read first: a long value's first line must not push it off the clipped line.
  const calls = callsSummary(result.calls);
  if (calls) parts.push(calls);
  if (result.error) parts.push(`${result.error.name}: ${firstLine(result.error.value)}`);
  else if (result.table) parts.push(`${formatCount(result.table.totalRows)} × ${formatCount(result.table.totalColumns)} table`);
  else if (result.result !== undefined && firstLine(result.result)) parts.push(firstLine(result.result));
  else if (firstLine(result.stdout)) parts.push(firstLine(result.stdout));
  const made = [
    result.images.length ? `${result.images.length} chart${result.images.length === 1 ? "" : "s"}` : "",
    result.files.length ? `${result.files.length} file${result.files.length === 1 ? "" : "s"}` : "",
  ].filter(Boolean);
  if (made.length) parts.push(made.join(", "));
  return displayName(parts.join(" · "), MAX_OUTCOME);
}
