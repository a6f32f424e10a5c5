import { chatProse, cleanLines, escapeMarkup } from "../../core/markdown/chat-markdown.js";
import { breakFences } from "../../core/markdown/fenced-code.js";
import { markdownDestination } from "../../core/markdown/link-rules.js";
import type { RewriteTarget } from "../../core/markdown/markdown-rewrite.js";
import { tableCodeBlock } from "../../core/markdown/markdown-table.js";
import { neutralizeMassMentions } from "../../core/mentions.js";

/**
 * What Slack's markdown surfaces (the markdown block, streamed markdown_text) get of the model's
 * markdown: the target the chat renderer (markdown-rewrite.ts) writes for, shared by the answer's
 * blocks and the streamed answer. Slack still reads its own <…> tokens inside markdown, so model
 * (and, quoted, sandbox) text could ping (<!here>, <@U…>) or hide a link's target
 * (<https://evil|bank.com>). So:
 * - mass mentions are defused before anything else (neutralizeMassMentions, also the plain words);
 * - in prose every "<" becomes &lt; (markdown blocks, where Slack shows it as "<" and never reads a
 *   token), or, streamed, gets a zero-width space after it when it could open a token; ">" stays,
 *   so > quotes still work; "&" is left alone (Slack doesn't decode entities in link targets);
 * - in code (where Slack's handling of entities is not documented) only a "<" that could open a
 *   token gets a zero-width space, so `a < b` and List<int> stay as written, and runs of three
 *   backticks are broken so nothing ends a block early;
 * - no "](" or "]:" is left in prose that Slack could read as a link or a link definition the
 *   rules didn't see;
 * - links only to http(s), honest labels (the real address shown beside one that names another);
 * - fence lines are plain ``` (no highlighting in markdown blocks, and Slack would print the
 *   language); pipe tables are aligned code blocks (the reference lists tables as unsupported, and a
 *   table Slack did make would count against the message's single table block); rules and task
 *   boxes are drawn.
 */

/** What after a "<" makes a Slack token: <@U…>, <!here>, <#C…>, <^…>, <https://…|label>. */
const TOKEN = "[!@#^]|[a-z][a-z0-9+.-]*:";
const TOKEN_START = new RegExp(`^(?:${TOKEN})`, "i");
const TOKEN_LT = new RegExp(`<(?=${TOKEN})`, "gi");

/** Slack's <…> tokens broken: a zero-width space after each "<" that could open one. */
export function breakSlackTokens(text: string): string {
  return text.replace(TOKEN_LT, "<\u200b");
}

/** Text Slack shows as written (a task's code, a table cell, a note): mass mentions defused and tokens broken. */
export function slackMarkdownSafe(text: string): string {
  return breakSlackTokens(neutralizeMassMentions(text));
}

/** Code's text: no run of three backticks can end the block early, no "<" can start a Slack token. */
export function slackCodeText(text: string): string {
  return breakSlackTokens(breakFences(text));
}

/** The model's markdown as Slack's markdown surfaces start from it: lines, no unsafe characters, mass mentions defused. */
export function cleanSlackMarkdown(markdown: string): string {
  return neutralizeMassMentions(cleanLines(markdown));
}

/** How "<" is made harmless in prose: &lt; (markdown blocks), or a zero-width space after one that could open a token (streamed text). */
export type LessThan = "entity" | "break";

export function slackMarkdownTarget(lt: LessThan): RewriteTarget {
  const lessThan = (source: string) => (at: number, escaped: boolean) =>
    lt === "entity" ? "&lt;" : `${escaped ? "\\" : ""}${TOKEN_START.test(source.slice(at + 1, at + 40)) ? "<\u200b" : "<"}`;
  const prose = (source: string, from: number, to: number) => chatProse(source, from, to, lessThan(source));
  const literal = (text: string) => prose(escapeMarkup(text), 0, escapeMarkup(text).length);
  return {
    prose,
    code: slackCodeText,
    fence: () => "```",
    destination: (url) => `(${markdownDestination(url)})`,
    address: (url) => `[${literal(markdownDestination(url))}](${markdownDestination(url)})`,
    literal,
    table: (table) => tableCodeBlock(table, neutralizeMassMentions, slackCodeText),
    rule: "──────────",
    task: (checked) => (checked ? "☑" : "☐"),
  };
}
