import { displayName, inlineCode } from "../core/display-text.js";
import type { ExecutionResult } from "../core/execution-result.js";
import { outputBlock } from "../core/markdown/fenced-code.js";
import { clip } from "./python-tool.js";

/** Characters of output (or of the value) shown inline; beyond, the whole is attached (full-output.ts). */
export const INLINE_OUTPUT_CHARS = 3000;
const MAX_BLOCK = INLINE_OUTPUT_CHARS;
const MAX_NOTE = 300;

function block(text: string): string {
  return outputBlock(text, "", (shown) => clip(shown, MAX_BLOCK));
}

/** A note as italic text when it is plain words, else as inline code (never a link, heading or mention). */
export function noteMarkdown(text: string): string {
  const line = displayName(text, MAX_NOTE);
  return /^[\w\s.,:;()'"/%+=-]*$/u.test(line) && !/\bhttps?:/i.test(line) ? `_${line.trim()}_` : inlineCode(line, MAX_NOTE);
}

/**
 * An execution shown to people (code run without the model): output, value, error, notes. All of
 * it is the sandbox's text, so it is shown as text: in code blocks, the error's name and message too
 * (`raise ValueError("# Admin notice\n[click](http://evil)")` must not become a heading or a link).
 */
export function executionMarkdown(result: ExecutionResult, fullOutputName?: string): string {
  const parts: string[] = [];
  const output = result.stdout + result.stderr;
  if (output.trim()) parts.push(block(output));
  if (result.result !== undefined) parts.push(block(result.result));
  if (fullOutputName && (output.length > MAX_BLOCK || (result.result?.length ?? 0) > MAX_BLOCK)) parts.push(`_The full output is attached as ${fullOutputName}._`);
  if (result.error) {
    const summary = `${result.error.name}: ${result.error.value}`;
    const traceback = result.error.traceback.trim();
    parts.push(`The code raised an error:\n${block(traceback.endsWith(summary.trim()) ? traceback : `${traceback}\n${summary}`.trim())}`);
  }
  for (const text of result.notes) parts.push(noteMarkdown(text));
  if (!parts.length) parts.push(result.images.length || result.files.length ? "Done." : "Done (no output).");
  return parts.join("\n\n");
}
