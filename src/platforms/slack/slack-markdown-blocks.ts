import type { KnownBlock, MarkdownBlock } from "@slack/web-api";
import { renderChatMarkdown, withinBudget } from "../../core/markdown/chat-markdown.js";
import { splitMarkdown } from "../../core/markdown/markdown-split.js";
import { plainText } from "./slack-markdown.js";
import { cleanSlackMarkdown, slackMarkdownTarget } from "./slack-markdown-target.js";
import { clipMrkdwn } from "./slack-text.js";

export { splitMarkdown };

/**
 * The answer as Slack `markdown` blocks (https://docs.slack.dev/reference/block-kit/blocks/markdown-block):
 * Slack renders the model's standard markdown itself, so the markdown is kept as the model wrote
 * it, made safe by the chat renderer for Slack's markdown target (slack-markdown-target.ts: no
 * mention, token, hidden link or stray "<"; tables as code; fences plain). Limits: 12,000
 * characters a block and, cumulatively, over all markdown blocks of a message; longer answers are
 * cut at a paragraph (a code block cut is closed) and flagged, so the delivery attaches answer.md.
 * An answer past the chat budget (MAX_CHAT_MARKDOWN_CHARS) is rendered up to it and flagged too.
 */

/** Slack's caps: one markdown block, and all markdown blocks of a message together. */
export const MARKDOWN_BLOCK_CHARS = 12_000;
export const MARKDOWN_MESSAGE_CHARS = 12_000;
/** The message's `text` (notifications, clients without blocks): a short plain summary. */
export const FALLBACK_TEXT_CHARS = 300;
/** Ends an answer cut to fit; the delivery says where the rest is. */
const CUT_MARK = "\n\n…";

export interface SlackMarkdown {
  blocks: KnownBlock[];
  /** For the message's `text`: plain, at most FALLBACK_TEXT_CHARS, escaped for mrkdwn; empty for a blank answer. */
  fallbackText: string;
  /** True when the answer did not fit and was cut: attach it in full. */
  overflow: boolean;
}

/** The answer's markdown made safe for a markdown block (within the chat budget); not yet cut to Slack's limits. */
export function safeMarkdown(markdown: string): string {
  return renderChatMarkdown(cleanSlackMarkdown(withinBudget(markdown).text), slackMarkdownTarget("entity")).replace(/^\n+|\s+$/g, "");
}

const total = (pieces: string[]) => pieces.reduce((sum, piece) => sum + piece.length, 0);

/**
 * The answer as markdown blocks within Slack's limits (at most `limits.message` characters over
 * all blocks, `limits.block` each), a plain fallback text, and whether it had to be cut.
 */
export function markdownBlocks(markdown: string, limits = { message: MARKDOWN_MESSAGE_CHARS, block: MARKDOWN_BLOCK_CHARS }): SlackMarkdown {
  const { text: head, cut } = withinBudget(markdown);
  const text = safeMarkdown(head);
  const fallbackText = clipMrkdwn(plainText(cleanSlackMarkdown(head)), FALLBACK_TEXT_CHARS);
  let pieces = splitMarkdown(text, limits.block);
  const overflow = cut || total(pieces) > limits.message;
  for (let room = limits.message - CUT_MARK.length; overflow && room > 0; room -= Math.max(16, Math.ceil(room / 50))) {
    const first = splitMarkdown(text, room, 1)[0] ?? "";
    pieces = splitMarkdown(first + CUT_MARK, limits.block);
    if (total(pieces) <= limits.message) break;
  }
  const blocks: MarkdownBlock[] = pieces.map((piece) => ({ type: "markdown", text: piece }));
  return { blocks, fallbackText, overflow };
}
