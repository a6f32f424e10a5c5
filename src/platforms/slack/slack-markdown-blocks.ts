import type { KnownBlock, MarkdownBlock } from "@slack/web-api";
import { neutralizeMassMentions } from "../../core/mentions.js";
import { cellText, displayWidth, padToWidth } from "../../core/table-text.js";
import { escapeMrkdwn, linkAt } from "./slack-markdown.js";
import { cleanMarkdown, closesFence, codeText, fenceOpening, safeInline } from "./slack-markdown-inline.js";
import { clipMrkdwn } from "./slack-text.js";

/**
 * The answer as Slack `markdown` blocks (https://docs.slack.dev/reference/block-kit/blocks/markdown-block):
 * Slack renders the model's standard markdown itself, so no mrkdwn conversion. Limits: 12,000
 * characters a block and, cumulatively, over all markdown blocks of a message; longer answers are
 * cut at a paragraph (a code block cut is closed) and flagged, so the delivery attaches answer.md.
 *
 * Slack still reads its own <…> tokens inside markdown blocks, so model (and, quoted, sandbox) text
 * could ping (<!here>, <@U…>) or hide a link's target (<https://evil|bank.com>). So:
 * - mass mentions are defused (neutralizeMassMentions, also the plain @channel words);
 * - in prose every "<" becomes &lt;, which Slack shows as "<" and never reads as a token (observed
 *   by others posting exactly these strings); ">" stays, so > quotes still work;
 * - in code (where Slack's handling of entities is not documented, so &lt; might show as such) a
 *   "<" that could open a token (<!, <@, <#, <scheme:) gets a zero-width space after it instead,
 *   and `a < b` or List<int> stay as written;
 * - "&" is left alone: entities are decoded for display only, and Slack does not decode them in
 *   link destinations, where escaping would break query strings;
 * - links only as [text](http(s) URL): other schemes (javascript:, slack:) keep just their text,
 *   and a label naming another address than the target gets the real URL shown beside it;
 *   images become links (Slack shows them as links anyway).
 * Pipe tables become aligned code blocks: the reference lists tables as unsupported, and a table
 * Slack did make of one would count against the message's single table block (a DataFrame's).
 * Fence language tags are dropped (no highlighting in markdown blocks); ~~~ fences become ```.
 */

/** Slack's caps: one markdown block, and all markdown blocks of a message together. */
export const MARKDOWN_BLOCK_CHARS = 12_000;
export const MARKDOWN_MESSAGE_CHARS = 12_000;
/** The message's `text` (notifications, clients without blocks): a short plain summary. */
export const FALLBACK_TEXT_CHARS = 300;
/** Ends an answer cut to fit; the delivery says where the rest is. */
const CUT_MARK = "\n\n…";
/** Columns of one cell of a pipe table turned into a code block. */
const TABLE_CELL_WIDTH = 40;
const FENCE_LINE = /^\s*```$/;

export interface SlackMarkdown {
  blocks: KnownBlock[];
  /** For the message's `text`: plain, at most FALLBACK_TEXT_CHARS, escaped for mrkdwn; empty for a blank answer. */
  fallbackText: string;
  /** True when the answer did not fit and was cut: attach it in full. */
  overflow: boolean;
}

function cells(row: string): string[] {
  const parts = row.trim().replace(/^\|/, "").replace(/(?<!\\)\|$/, "").split(/(?<!\\)\|/);
  // Cleaning drops zero-width characters, the defused mentions' included: defuse again after it.
  return parts.map((part) => neutralizeMassMentions(cellText(part.replace(/\\\|/g, "|").replace(/`/g, ""), TABLE_CELL_WIDTH, "width").text));
}

/** A pipe table as an aligned code block (columns marked ---: right-aligned). */
function tableCode(lines: string[]): string[] {
  const [head = "", delimiter = "", ...body] = lines;
  const right = delimiter.trim().replace(/^\|/, "").replace(/\|$/, "").split("|").map((cell) => /-:\s*$/.test(cell) && !/^\s*:/.test(cell));
  const rows = [cells(head), ...body.map(cells)];
  const count = Math.max(...rows.map((row) => row.length));
  const widths = Array.from({ length: count }, (_, i) => Math.max(1, ...rows.map((row) => displayWidth(row[i] ?? ""))));
  const render = (row: string[]) =>
    widths
      .map((width, i) => padToWidth(row[i] ?? "", width, right[i] ? "right" : "left"))
      .join("  ")
      .trimEnd();
  const [header = [], ...data] = rows;
  return ["```", ...[render(header), widths.map((width) => "-".repeat(width)).join("  "), ...data.map(render)].map(codeText), "```"];
}

const isTableRow = (line: string) => line.includes("|") && line.trim() !== "";
const isDelimiterRow = (line: string) => line.includes("|") && /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/.test(line);

function proseLines(lines: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    if (isTableRow(line) && isDelimiterRow(lines[i + 1] ?? "")) {
      let end = i + 2;
      while (end < lines.length && isTableRow(lines[end] ?? "")) end++;
      out.push(...tableCode(lines.slice(i, end)));
      i = end - 1;
      continue;
    }
    if (/^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/.test(line)) out.push("──────────");
    else out.push(safeInline(line.replace(/^(\s*(?:[-*+]|\d+[.)])\s+)\[([ xX])\](?=\s)/, (_m, lead: string, mark: string) => `${lead}${mark === " " ? "☐" : "☑"}`)));
  }
  return out;
}

/** The answer's markdown made safe for a markdown block (see the module comment); not yet cut. */
export function safeMarkdown(markdown: string): string {
  const out: string[] = [];
  let prose: string[] = [];
  let fence: { indent: string; marker: string } | undefined;
  const flush = () => {
    out.push(...proseLines(prose));
    prose = [];
  };
  for (const line of cleanMarkdown(markdown).split("\n")) {
    if (fence) {
      if (closesFence(line, fence.marker)) {
        out.push(`${fence.indent}\`\`\``);
        fence = undefined;
      } else out.push(codeText(line));
      continue;
    }
    const open = fenceOpening(line);
    if (open) {
      flush();
      fence = open;
      out.push(`${fence.indent}\`\`\``);
      continue;
    }
    prose.push(line);
  }
  flush();
  if (fence) out.push(`${fence.indent}\`\`\``);
  return out.join("\n").replace(/^\n+|\s+$/g, "");
}

/** The fence line left open at the end of the text, if any (fence lines are exactly ```, indented or not). */
function openFence(text: string): string | undefined {
  let open: string | undefined;
  for (const line of text.split("\n")) if (FENCE_LINE.test(line)) open = open === undefined ? line : undefined;
  return open;
}

/** Where to cut text to at most `room` characters: a paragraph outside code, a line, a space, else anywhere safe. */
function cutAt(text: string, room: number): number {
  const window = text.slice(0, room + 1);
  let paragraph = -1;
  let inCode = false;
  let offset = 0;
  for (const line of window.split("\n")) {
    if (FENCE_LINE.test(line)) inCode = !inCode;
    else if (!inCode && line.trim() === "" && offset > 0 && offset <= room) paragraph = offset;
    offset += line.length + 1;
  }
  if (paragraph > room / 2) return paragraph;
  for (const separator of ["\n", " "]) {
    const at = window.lastIndexOf(separator, room);
    if (at > room / 2) return at;
  }
  let at = room;
  const amp = text.lastIndexOf("&", at - 1);
  if (amp >= 0 && amp > at - 4 && text.startsWith("&lt;", amp)) at = amp;
  if (/[\ud800-\udbff]/.test(text[at - 1] ?? "")) at--;
  return Math.max(1, at);
}

/**
 * Text cut into pieces of at most `limit` characters (a few hundred at least) at paragraph
 * boundaries where possible; a code block that must be cut is closed at the end of one piece and
 * reopened at the start of the next. `count` stops after that many pieces.
 */
export function splitMarkdown(text: string, limit: number, count = Number.POSITIVE_INFINITY): string[] {
  const pieces: string[] = [];
  let rest = text.trim();
  // Room to close a code block: a newline and its fence line (indented in a list, or not).
  const room = limit - 1 - Math.max(3, ...rest.split("\n").filter((line) => FENCE_LINE.test(line)).map((line) => line.length));
  if (room < 100) throw new RangeError(`no room to split markdown into pieces of ${limit} characters`);
  while (rest.length > limit && pieces.length < count) {
    const at = cutAt(rest, room);
    let piece = rest.slice(0, at).trimEnd();
    const fence = openFence(piece);
    if (fence !== undefined) piece += `\n${fence}`;
    pieces.push(piece);
    rest = rest.slice(at).replace(/^\n+/, "");
    if (fence !== undefined) rest = `${fence}\n${rest}`;
    if (!rest.trim()) rest = "";
  }
  if (rest.trim() && pieces.length < count) pieces.push(rest);
  return pieces;
}

/** The answer without markup, on one line, for notifications: code and table rules left out. */
function plainText(markdown: string): string {
  const lines: string[] = [];
  let code: string | undefined;
  let inFence = false;
  for (const line of cleanMarkdown(markdown).split("\n")) {
    if (/^\s*(`{3,}[^`]*|~{3,}.*)$/.test(line)) {
      inFence = !inFence;
      continue;
    }
    if (inFence) {
      code ??= line.trim() || undefined;
      continue;
    }
    if (isDelimiterRow(line)) continue;
    let text = "";
    for (let i = 0; i < line.length; ) {
      const link = line[i] === "[" || (line[i] === "!" && line[i + 1] === "[") ? linkAt(line, i) : undefined;
      if (link) {
        text += link.label;
        i = link.end;
      } else text += line[i++];
    }
    lines.push(
      text
        .replace(/^\s{0,3}#{1,6}\s+/, "")
        .replace(/^(?:\s*>)+\s?/, "")
        .replace(/^\s*[-*+]\s+/, "• ")
        .replace(/\*\*|__|~~|`/g, "")
        .replace(/(^|[\s(])[*_]+(?=\S)/g, "$1")
        .replace(/(\S)[*_]+(?=[\s).,;:!?]|$)/g, "$1")
        .replace(/\|/g, " "),
    );
  }
  const text = lines.join(" ").replace(/\s+/g, " ").trim() || code || "";
  return clipMrkdwn(escapeMrkdwn(text), FALLBACK_TEXT_CHARS);
}

const total = (pieces: string[]) => pieces.reduce((sum, piece) => sum + piece.length, 0);

/**
 * The answer as markdown blocks within Slack's limits (at most `limits.message` characters over
 * all blocks, `limits.block` each), a plain fallback text, and whether it had to be cut.
 */
export function markdownBlocks(markdown: string, limits = { message: MARKDOWN_MESSAGE_CHARS, block: MARKDOWN_BLOCK_CHARS }): SlackMarkdown {
  const text = safeMarkdown(markdown);
  const fallbackText = plainText(markdown);
  let pieces = splitMarkdown(text, limits.block);
  const overflow = total(pieces) > limits.message;
  for (let room = limits.message - CUT_MARK.length; overflow && room > 0; room -= Math.max(16, Math.ceil(room / 50))) {
    const head = splitMarkdown(text, room, 1)[0] ?? "";
    pieces = splitMarkdown(head + CUT_MARK, limits.block);
    if (total(pieces) <= limits.message) break;
  }
  const blocks: MarkdownBlock[] = pieces.map((piece) => ({ type: "markdown", text: piece }));
  return { blocks, fallbackText, overflow };
}
