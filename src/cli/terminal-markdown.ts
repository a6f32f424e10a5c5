import { renderChatMarkdown, withinBudget } from "../core/markdown/chat-markdown.js";
import type { RewriteTarget } from "../core/markdown/markdown-rewrite.js";
import { tableCodeBlock } from "../core/markdown/markdown-table.js";

/**
 * The terminal's target of the chat renderer (markdown-rewrite.ts): a terminal shows markdown as
 * text, so the answer stays as the model wrote it, but for the link policy (http(s) only, the real
 * address beside a label that names another, images as links) and pipe tables, aligned. Past the
 * chat budget the rest is shown as written. Control sequences are the caller's to drop (terminalSafe).
 */

const TERMINAL_TARGET: RewriteTarget = {
  prose: (source, from, to) => source.slice(from, to),
  code: (text) => text,
  destination: (url) => `(${url})`,
  address: (url) => url,
  literal: (text) => text,
  table: (table) => tableCodeBlock(table, (cell) => cell, (text) => text),
};

export function terminalMarkdown(markdown: string): string {
  const { text } = withinBudget(markdown);
  return renderChatMarkdown(text, TERMINAL_TARGET) + markdown.slice(text.length);
}
