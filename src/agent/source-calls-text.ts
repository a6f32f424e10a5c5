import { displayName, formatCount, inlineCode } from "../core/display-text.js";
import type { ExecutionResult } from "../core/execution-result.js";
import type { SourceCallRecord } from "../core/source-call.js";
import { outputBlock } from "../core/markdown/fenced-code.js";
import { clip } from "./python-tool.js";

/**
 * The data-source calls of a turn's steps as people see them: a few words in the step's line, and
 * each query (its SQL, source, rows and time) after the answer. The SQL and paths are the code's,
 * so shown as text only (code blocks, inline code), clipped.
 */

const QUERIES_SHOWN = 10;
const SQL_CHARS = 1500;

const OUTCOME_WORDS: Record<string, string> = {
  timeout: "timed out",
  "read-only": "refused (read-only)",
  "not-allowed": "refused",
  "unknown-source": "unknown source",
  "too-many-rows": "too many rows",
  "too-large": "too large",
  unreachable: "source unreachable",
  "query-failed": "failed",
  "http-status": "HTTP error",
  "bad-request": "refused",
  cancelled: "cancelled",
};

function sizeText(bytes: number): string {
  return bytes >= 1048576 ? `${(bytes / 1048576).toFixed(1)} MB` : bytes >= 1024 ? `${Math.round(bytes / 1024)} kB` : `${bytes} B`;
}

/** What the call got: "1,204 rows", "1,204 rows (cut)", "12 kB", or its failure in words. */
function got(call: SourceCallRecord): string {
  if (call.outcome !== "ok" && call.outcome !== "truncated") return OUTCOME_WORDS[call.outcome] ?? "failed";
  const amount = call.kind === "sql" ? `${formatCount(call.rows ?? 0)} row${call.rows === 1 ? "" : "s"}` : sizeText(call.bytes);
  return call.outcome === "truncated" ? `${amount} (cut)` : amount;
}

/** A step's calls in a few words for its line ("warehouse: 1,204 rows", "3 data queries"). */
export function callsSummary(calls: readonly SourceCallRecord[] | undefined): string {
  if (!calls?.length) return "";
  if (calls.length > 1) return `${calls.length} data queries`;
  return `${displayName(calls[0]!.source, 40)}: ${got(calls[0]!)}`;
}

function sqlBlock(text: string): string {
  return outputBlock(text, "sql", (shown) => clip(shown, SQL_CHARS));
}

/** Each query of the turn's steps, as markdown after the answer ("" when the steps made none). */
export function queriesMarkdown(executions: ReadonlyArray<{ result: ExecutionResult }>): string {
  const calls = executions.flatMap(({ result }, i) => (result.calls ?? []).map((call) => ({ step: i + 1, call })));
  if (!calls.length) return "";
  const lines = calls.slice(0, QUERIES_SHOWN).map(({ step, call }) => {
    const head = `Step ${step} · ${inlineCode(call.source, 64)} · ${got(call)} · ${formatCount(call.ms)} ms`;
    return call.kind === "sql" ? `${head}\n${sqlBlock(call.text)}` : `${head} · ${inlineCode(call.text, 300)}`;
  });
  const more = calls.length - QUERIES_SHOWN;
  return [`**Data queries**`, ...lines, ...(more > 0 ? [`_and ${formatCount(more)} more_`] : [])].join("\n\n");
}
