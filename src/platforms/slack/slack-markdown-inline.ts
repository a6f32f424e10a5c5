import { labelMisleads, safeHttpUrl } from "../../core/markdown/link-rules.js";
import { neutralizeMassMentions } from "../../core/mentions.js";
import { linkAt, type MarkdownLink } from "./slack-markdown.js";

/**
 * What Slack's markdown surfaces (markdown blocks, streamed markdown_text) get of one line of the
 * model's prose or code, shared by the answer's blocks (slack-markdown-blocks.ts) and the streamed
 * answer (slack-stream-markdown.ts), so both apply the same rules: code spans kept (Slack tokens
 * broken in them), links only to http(s) with honest labels, every other "<" harmless, and no
 * "](" left that Slack could read as a link the rules didn't check.
 */

/** How far a code span's closing backticks are looked for: keeps lines of lone backticks linear. */
export const MAX_CODE_SPAN = 2000;

const FENCE_OPEN = /^(\s*)(`{3,}|~{3,})(.*)$/;
const FENCE_CLOSE = /^\s*(`{3,}|~{3,})\s*$/;
/** Bidi embeddings, overrides and isolates (they reorder what people read) and controls other than tab and newline. */
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
/** A "<" Slack could read as the start of a token: <@U…>, <!here>, <#C…>, <^…>, <https://…|label>. */
const TOKEN_START = /^(?:[!@#^]|[a-z][a-z0-9+.-]*:)/i;

/** Line ends as \n, unsafe controls and bidi overrides out, mass mentions defused. */
export function cleanMarkdown(markdown: string): string {
  return neutralizeMassMentions(withoutUnsafe(markdown.replace(/\r\n?/g, "\n")));
}

/** Text without controls (tab and newline aside) and bidi embeddings, overrides and isolates. */
export function withoutUnsafe(text: string): string {
  return text.replace(UNSAFE, "");
}

/** Code text: no run of three backticks can end the block early, no "<" can start a Slack token. */
export function codeText(text: string): string {
  return text.replace(/`{3,}/g, (run) => run.split("").join("\u200b")).replace(/<(?=[!@#]|[a-z][a-z0-9+.-]*:)/gi, "<\u200b");
}

/** A line opening a fenced code block (``` or ~~~, a backtick fence with no backtick after it): its indent and marker. */
export function fenceOpening(line: string): { indent: string; marker: string } | undefined {
  const open = FENCE_OPEN.exec(line);
  if (!open || (open[2]?.startsWith("`") && open[3]?.includes("`"))) return undefined;
  return { indent: open[1] ?? "", marker: open[2] ?? "```" };
}

/** True when the line closes a code block opened with marker. */
export function closesFence(line: string, marker: string): boolean {
  const close = FENCE_CLOSE.exec(line)?.[1];
  return close !== undefined && close[0] === marker[0] && close.length >= marker.length;
}

/** Where the backtick run of exactly `length` closing a code span starts, or -1. */
export function closingRun(text: string, from: number, length: number): number {
  const limit = Math.min(text.length, from + MAX_CODE_SPAN);
  for (let i = from; i < limit; ) {
    if (text[i] !== "`") {
      i++;
      continue;
    }
    let j = i;
    while (text[j] === "`") j++;
    if (j - i === length) return i;
    i = j;
  }
  return -1;
}

export interface InlineOptions {
  /** Links are checked and rendered (false inside a link's label). */
  links?: boolean;
  /**
   * How a "<" of prose is made harmless: "entity" writes &lt; (markdown blocks, where Slack shows it
   * as "<"); "break" puts a zero-width space after a "<" that could open a Slack token (streamed text).
   */
  lt?: "entity" | "break";
}

/** A link per the policy (link-rules.ts), its label rendered as prose. */
function renderLink(link: MarkdownLink, options: InlineOptions): string {
  const label = safeInline(link.label, { ...options, links: false });
  const url = safeHttpUrl(link.url);
  if (!url) return label;
  const target = /^[^()]*(?:\([^()]*\)[^()]*)*$/.test(url) ? url : url.replace(/\(/g, "%28").replace(/\)/g, "%29");
  const shown = `[${target.replace(/[\\`*_~[\]]/g, "\\$&")}](${target})`;
  if (!label.trim()) return shown;
  return labelMisleads(link.label, url) ? `${label} (${shown})` : `[${label}](${target})`;
}

/** One line of prose: code spans kept (tokens broken), links checked, every other "<" harmless, stray "](" broken. */
export function safeInline(text: string, options: InlineOptions = {}): string {
  const { links = true, lt = "entity" } = options;
  const harmlessLt = (at: number) => (lt === "entity" ? "&lt;" : TOKEN_START.test(text.slice(at + 1, at + 40)) ? "<\u200b" : "<");
  let out = "";
  for (let i = 0; i < text.length; ) {
    const c = text[i] ?? "";
    if (c === "`") {
      let end = i;
      while (text[end] === "`") end++;
      const run = text.slice(i, end);
      const close = closingRun(text, i + run.length, run.length);
      if (close >= 0) {
        out += run + codeText(text.slice(i + run.length, close)) + run;
        i = close + run.length;
      } else {
        out += run;
        i += run.length;
      }
      continue;
    }
    const link = links && (c === "[" || (c === "!" && text[i + 1] === "[")) ? linkAt(text, i) : undefined;
    if (link) {
      out += renderLink(link, options);
      i = link.end;
      continue;
    }
    if (c === "\\" && i + 1 < text.length) {
      out += text[i + 1] === "<" ? (lt === "entity" ? "&lt;" : `\\${harmlessLt(i + 1)}`) : text.slice(i, i + 2);
      i += 2;
      continue;
    }
    if (c === "]" && text[i + 1] === "(") {
      // A label's end the link scanner didn't take (too long, unclosed): no link Slack could still make of it.
      out += "]\u200b(";
      i += 2;
      continue;
    }
    out += c === "<" ? harmlessLt(i) : c;
    i++;
  }
  return out;
}
