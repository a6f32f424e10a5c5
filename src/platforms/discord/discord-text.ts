import { chatProse, cleanLines, escapeMarkup, renderChatMarkdown, withinBudget } from "../../core/markdown/chat-markdown.js";
import { breakFences } from "../../core/markdown/fenced-code.js";
import { markdownDestination } from "../../core/markdown/link-rules.js";
import type { RewriteTarget } from "../../core/markdown/markdown-rewrite.js";
import { splitMarkdown } from "../../core/markdown/markdown-split.js";
import { tableCodeBlock } from "../../core/markdown/markdown-table.js";
import { discordSafeText } from "../../core/mentions.js";

/**
 * The model's markdown for Discord: Discord renders markdown itself, so the text is kept as the
 * model wrote it, changed by the chat renderer (markdown-rewrite.ts) only where Discord needs it:
 * links only to http(s) with honest labels (the real address beside one that names another),
 * images as links, no "](" left in prose that Discord could read as a link the rules didn't see,
 * fences as ``` with their language (Discord has no ~~~ and no indented code), runs of backticks
 * in code broken, pipe tables (which Discord doesn't draw) as aligned code blocks. Mentions are
 * defused by the delivery's last pass over every message (discordSafeText), code included.
 * Then Discord's 2,000-character message limit: text is split at paragraph, then line, then word
 * boundaries; a code block that must be split is closed and reopened, so no message leaves a fence open.
 */
export const DISCORD_MESSAGE_LIMIT = 2000;

const DISCORD_TARGET: RewriteTarget = {
  prose: (source, from, to) => chatProse(source, from, to),
  code: breakFences,
  fence: (lang) => `\`\`\`${lang && /^[\w+#.-]{1,20}$/.test(lang) ? lang : ""}`,
  destination: (url) => `(${markdownDestination(url)})`,
  address: (url) => `<${markdownDestination(url)}>`,
  literal: (text) => chatProse(escapeMarkup(text), 0, escapeMarkup(text).length),
  table: (table) => tableCodeBlock(table, discordSafeText, breakFences),
};

/** The model's markdown as Discord shows it (within the chat budget); `cut` says the text went past it. */
export function discordMarkdown(markdown: string): { text: string; cut: boolean } {
  const { text, cut } = withinBudget(markdown);
  return { text: renderChatMarkdown(cleanLines(text), DISCORD_TARGET).trim(), cut };
}

export function splitMessage(text: string, limit = DISCORD_MESSAGE_LIMIT): string[] {
  return splitMarkdown(text, limit);
}
