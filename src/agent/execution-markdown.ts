import type { ExecutionResult } from "../core/execution-result.js";
import { clip } from "./python-tool.js";

const MAX_BLOCK = 3000;

function block(text: string): string {
  return `\`\`\`\n${clip(text.replace(/```/g, "``\u200b`"), MAX_BLOCK).trimEnd()}\n\`\`\``;
}

/** An execution shown to people (code run without the model): output, value, error, notes. */
export function executionMarkdown(result: ExecutionResult): string {
  const parts: string[] = [];
  const output = result.stdout + result.stderr;
  if (output.trim()) parts.push(block(output));
  if (result.result !== undefined) parts.push(block(result.result));
  if (result.error) parts.push(`**${result.error.name}**: ${result.error.value}\n${block(result.error.traceback)}`);
  for (const note of result.notes) parts.push(`_${note}_`);
  if (!parts.length) parts.push(result.images.length || result.files.length ? "Done." : "Done (no output).");
  return parts.join("\n\n");
}
