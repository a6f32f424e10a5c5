import { applyEdits } from "./markdown-edits.js";
import { rewriteMarkdown, type RewriteTarget } from "./markdown-rewrite.js";
import { parseMarkdown } from "./markdown-tree.js";

/**
 * The model's markdown on its way to a chat: cleaned, read within a budget, parsed once and
 * rendered for the target (markdown-rewrite.ts).
 */

/**
 * Characters of one chat text read as markdown at most: what one message shows (Slack's 12,000
 * characters of markdown blocks; Discord's four messages of 2,000). A longer text is rendered up
 * to here and attached in full. Parsing costs ~2 µs a character for prose and up to ~25 µs for
 * text made of markup ("**a", "[a]: b" repeated), so this bounds the work of one answer, whatever
 * the model wrote.
 */
export const MAX_CHAT_MARKDOWN_CHARS = 12_000;

/** Controls other than tab and newline, and bidi embeddings, overrides and isolates (they reorder what people read). */
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** Text without controls (tab and newline aside) and bidi embeddings, overrides and isolates. */
export function withoutUnsafe(text: string): string {
  return text.replace(UNSAFE, "");
}

/** Line ends as \n, then unsafe characters out: the text every chat target starts from. */
export function cleanLines(text: string): string {
  return withoutUnsafe(text.replace(/\r\n?/g, "\n"));
}

/** The text cut to at most `max` characters, at a line's end in its last half where there is one; `cut` says it was. */
export function withinBudget(text: string, max = MAX_CHAT_MARKDOWN_CHARS): { text: string; cut: boolean } {
  if (text.length <= max) return { text, cut: false };
  const newline = text.lastIndexOf("\n", max);
  let at = newline > max / 2 ? newline : max;
  if (/[\ud800-\udbff]/.test(text[at - 1] ?? "")) at--;
  return { text: text.slice(0, at), cut: true };
}

/** Text codebot writes into markdown (a label), its markup characters escaped so it shows as written. */
export function escapeMarkup(text: string): string {
  return text.replace(/[\\`*_~[\]|]/g, "\\$&");
}

/**
 * Prose as every chat target writes it: no "](" or "]:" left (a zero-width space between) that a
 * chat could read as a link or a link definition the rules didn't see, backslash escapes kept in
 * pairs; `lessThan`, when given, writes each "<" (`escaped`: it followed a backslash, now dropped).
 */
export function chatProse(source: string, from: number, to: number, lessThan?: (at: number, escaped: boolean) => string): string {
  let out = "";
  for (let i = from; i < to; i++) {
    const c = source[i] ?? "";
    if (c === "\\" && i + 1 < to) {
      out += source[i + 1] === "<" && lessThan ? lessThan(i + 1, true) : c + source[i + 1];
      i++;
    } else if (c === "<" && lessThan) out += lessThan(i, false);
    else out += c === "]" && (source[i + 1] === "(" || source[i + 1] === ":") ? "]\u200b" : c;
  }
  return out;
}

/**
 * Markdown (cleaned already) rendered for a chat target. Text nested too deeply to be read as
 * markdown is shown defused instead: prose and code transforms both, so nothing in it is markup
 * the rules didn't see.
 */
export function renderChatMarkdown(markdown: string, target: RewriteTarget): string {
  const tree = parseMarkdown(markdown, "chat");
  if (!tree) return target.code(target.prose(markdown, 0, markdown.length));
  return applyEdits(markdown, rewriteMarkdown(tree, markdown, target).edits, target);
}
