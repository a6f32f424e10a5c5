import type { ExecutionResult } from "../core/execution-result.js";
import type { OutgoingFile } from "../core/reply.js";
import { INLINE_OUTPUT_CHARS } from "./execution-markdown.js";

/** The name of a step's full output, as the answer mentions it. */
export function fullOutputName(step: number): string {
  return `output-${step}.txt`;
}

/**
 * An execution's whole output (as far as the sandbox's own cap kept it) as a text file, when the
 * answer can show only part of it inline; undefined when it all fits.
 */
export function fullOutputFile(result: ExecutionResult, step: number): OutgoingFile | undefined {
  const output = result.stdout + result.stderr;
  const value = result.result ?? "";
  if (output.length <= INLINE_OUTPUT_CHARS && value.length <= INLINE_OUTPUT_CHARS) return undefined;
  const sections = [
    result.stdout ? `# stdout\n${result.stdout}` : "",
    result.stderr ? `# stderr\n${result.stderr}` : "",
    value ? `# value\n${value}` : "",
  ].filter(Boolean);
  return { name: fullOutputName(step), mime: "text/plain", data: Buffer.from(`${sections.join("\n\n").trimEnd()}\n`) };
}
