/**
 * CommonMark as the model writes it → Slack's mrkdwn, for the places that still take mrkdwn (status
 * lines, section text; answers go in markdown blocks, slack-markdown-blocks.ts): *bold*, _italic_
 * (nested the way CommonMark pairs the delimiters, so **bold _it_** and ***both*** come out right),
 * ~strike~, <url|text> links (http(s) only; parentheses inside URLs kept), headings as bold lines,
 * bullets as •, > quotes, tables kept aligned in a code block. Code keeps its text (fences lose
 * their language tag, which Slack would print). &, < and > are escaped everywhere, code included
 * (Slack shows &lt; in code as <), so only the links made here are links.
 * The link scanner is shared with the markdown-block renderer; the link policy is core's (link-rules.ts).
 */
import { labelMisleads, safeHttpUrl } from "../../core/markdown/link-rules.js";

const FENCE = /```[^\n`]*\n([\s\S]*?)```/g;
/** Stand-ins for code spans and links while emphasis is paired (private-use characters, stripped from the input). */
const CODE_MARK = "\ue000";
const LINK_MARK = "\ue001";
const MARKS = /[\ue000\ue001]/g;
/** How far back a closing * or _ looks for its opener: keeps hostile runs of delimiters linear. */
const MAX_LOOKBACK = 64;
/** How far a link's label and destination may reach: keeps "[[[[…" lines linear. */
const MAX_LABEL_SCAN = 500;
const MAX_LINK_SCAN = 2000;
/** CommonMark's bound on nested parentheses in a link destination. */
const MAX_PAREN_DEPTH = 32;
/** ASCII punctuation, which a backslash makes literal. */
const ESCAPABLE = /^[!-/:-@[-`{-~]$/;

export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** The last search for "](" (where a link's label can end), reused while scanning the same text forward. */
const labelEnds = { text: "", from: -1, found: -1 };

/** Where the next "](" at or after `from` is, or -1: no link can start before a label's end, so "[[[[…" costs one search. */
function nextLabelEnd(text: string, from: number): number {
  const last = labelEnds;
  if (last.text === text && from >= last.from && (last.found < 0 || from <= last.found)) return last.found;
  Object.assign(last, { text, from, found: text.indexOf("](", from) });
  return last.found;
}

/** A markdown link or image found in a line: [label](url "title") or ![alt](url). */
export interface MarkdownLink {
  label: string;
  url: string;
  image: boolean;
  /** Index just past the closing parenthesis. */
  end: number;
}

/**
 * The inline link or image starting at `start` ("[" or "!["), the CommonMark way: brackets may nest
 * in the label, parentheses may nest in the destination (Foo_(bar)), <…> destinations and titles
 * allowed; undefined when there is none.
 */
export function linkAt(text: string, start: number): MarkdownLink | undefined {
  const image = text[start] === "!";
  let i = start + (image ? 1 : 0);
  if (text[i] !== "[") return undefined;
  const labelEnd = nextLabelEnd(text, i);
  if (labelEnd < 0 || labelEnd - i > MAX_LABEL_SCAN) return undefined;
  const labelStart = ++i;
  const limit = Math.min(text.length, labelStart + MAX_LABEL_SCAN);
  for (let depth = 0; i < limit; i++) {
    const c = text[i];
    if (c === "\\") i++;
    else if (c === "\n") return undefined;
    else if (c === "[") depth++;
    else if (c === "]" && depth-- === 0) break;
  }
  if (i >= limit || text[i + 1] !== "(") return undefined;
  const label = text.slice(labelStart, i);
  i += 2;
  while (text[i] === " ") i++;
  let url = "";
  if (text[i] === "<") {
    const close = text.indexOf(">", i);
    if (close < 0 || close - i > MAX_LINK_SCAN || /[<\n]/.test(text.slice(i + 1, close))) return undefined;
    url = text.slice(i + 1, close);
    i = close + 1;
  } else {
    const urlStart = i;
    const urlLimit = Math.min(text.length, urlStart + MAX_LINK_SCAN);
    for (let depth = 0; i < urlLimit; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x5c && ESCAPABLE.test(text[i + 1] ?? "")) i++;
      else if (c <= 0x20) break;
      else if (c === 0x28) {
        if (++depth > MAX_PAREN_DEPTH) return undefined;
      } else if (c === 0x29 && depth-- === 0) break;
    }
    url = text.slice(urlStart, i).replace(/\\([!-/:-@[-`{-~])/g, "$1");
  }
  const title = /^[ ]*(?:"[^"\n]*"|'[^'\n]*'|\([^()\n]*\))?[ ]*\)/.exec(text.slice(i, i + MAX_LINK_SCAN));
  if (!title) return undefined;
  return { label, url, image, end: i + title[0].length };
}

function mrkdwnLink(link: MarkdownLink): string {
  const label = escapeMrkdwn(link.label.replace(/\*\*|__|~~|`/g, "")) || escapeMrkdwn(link.url);
  const url = safeHttpUrl(link.url);
  if (!url) return label;
  if (labelMisleads(link.label, url)) return `${label} (<${escapeMrkdwn(url)}>)`;
  return `<${escapeMrkdwn(url)}|${label}>`;
}

interface Delimiter {
  char: string;
  length: number;
  readonly original: number;
  readonly open: boolean;
  readonly close: boolean;
  /** A letter or digit touches the run on that side: Slack cannot format inside a word. */
  readonly wordBefore: boolean;
  readonly wordAfter: boolean;
  readonly opens: string[];
  readonly closes: string[];
  active: boolean;
}

const SPACE = /\s/u;
const PUNCT = /[\p{P}\p{S}]/u;
const WORD = /[\p{L}\p{N}]/u;
const isSpace = (c: string) => SPACE.test(c);
const isPunct = (c: string) => PUNCT.test(c);
const isWord = (c: string) => WORD.test(c);

/**
 * Pairs * and _ runs as CommonMark does (flanking rules, the rule of 3, strong before emphasis) and
 * writes mrkdwn's markers: strong → *, emphasis → _. A pair inside a word stays as written, as
 * mrkdwn has no intraword emphasis. Backslash-escaped characters are literal.
 */
function emphasis(text: string): string {
  const pieces: (string | Delimiter)[] = [];
  let plain = "";
  for (let i = 0; i < text.length; ) {
    const c = text[i] ?? "";
    if (c === "\\" && ESCAPABLE.test(text[i + 1] ?? "")) {
      plain += text[i + 1];
      i += 2;
      continue;
    }
    if (c !== "*" && c !== "_") {
      plain += c;
      i++;
      continue;
    }
    let j = i;
    while (text[j] === c) j++;
    const before = text[i - 1] ?? " ";
    const after = text[j] ?? " ";
    const left = !isSpace(after) && (!isPunct(after) || isSpace(before) || isPunct(before));
    const right = !isSpace(before) && (!isPunct(before) || isSpace(after) || isPunct(after));
    pieces.push(plain);
    plain = "";
    pieces.push({
      char: c,
      length: j - i,
      original: j - i,
      open: c === "*" ? left : left && (!right || isPunct(before)),
      close: c === "*" ? right : right && (!left || isPunct(after)),
      wordBefore: isWord(before),
      wordAfter: isWord(after),
      opens: [],
      closes: [],
      active: true,
    });
    i = j;
  }
  pieces.push(plain);

  const runs = pieces.filter((piece): piece is Delimiter => typeof piece !== "string");
  runs.forEach((closer, at) => {
    if (!closer.close) return;
    while (closer.length > 0) {
      let found = -1;
      for (let k = at - 1; k >= Math.max(0, at - MAX_LOOKBACK); k--) {
        const opener = runs[k];
        if (!opener?.active || !opener.open || !opener.length || opener.char !== closer.char) continue;
        const ruleOf3 = (opener.close || closer.open) && (opener.original + closer.original) % 3 === 0;
        if (ruleOf3 && !(opener.original % 3 === 0 && closer.original % 3 === 0)) continue;
        found = k;
        break;
      }
      const opener = runs[found];
      if (!opener) break;
      const n = opener.length >= 2 && closer.length >= 2 ? 2 : 1;
      const marker = opener.wordBefore || closer.wordAfter ? closer.char.repeat(n) : n === 2 ? "*" : "_";
      opener.length -= n;
      closer.length -= n;
      opener.opens.push(marker);
      closer.closes.push(marker);
      for (let k = found + 1; k < at; k++) (runs[k] as Delimiter).active = false;
    }
  });
  return pieces
    .map((piece) => (typeof piece === "string" ? piece : piece.closes.join("") + piece.char.repeat(piece.length) + [...piece.opens].reverse().join("")))
    .join("");
}

function inline(text: string): string {
  const spans: string[] = [];
  let masked = "";
  for (let i = 0; i < text.length; ) {
    const code = text[i] === "`" ? /^`[^`\n]+`/.exec(text.slice(i, i + MAX_LINK_SCAN)) : null;
    if (code) {
      spans.push(escapeMrkdwn(code[0]));
      masked += CODE_MARK;
      i += code[0].length;
      continue;
    }
    const link = text[i] === "[" || (text[i] === "!" && text[i + 1] === "[") ? linkAt(text, i) : undefined;
    if (link) {
      spans.push(mrkdwnLink(link));
      masked += LINK_MARK;
      i = link.end;
      continue;
    }
    masked += text[i];
    i++;
  }
  let at = 0;
  return escapeMrkdwn(emphasis(masked))
    .replace(/~~(?=\S)([^~\n]*?\S)~~/g, "~$1~")
    .replace(MARKS, () => spans[at++] ?? "");
}

/** One prose line: heading, quote, rule, bullet or plain text. */
function line(text: string): string {
  const quote = /^(?:[ ]{0,3}>[ ]?)+/.exec(text);
  if (quote) return `> ${line(text.slice(quote[0].length))}`;
  const heading = /^\s{0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(text);
  if (heading) return `*${inline(heading[1] ?? "").replace(/\*/g, "")}*`;
  if (/^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/.test(text)) return "──────────";
  return inline(text.replace(/^(\s*)[-*+]\s+/, "$1• "));
}

function prose(text: string): string {
  const out: string[] = [];
  const table: string[] = [];
  const flushTable = () => {
    if (table.length) out.push("```\n" + escapeMrkdwn(table.join("\n")) + "\n```");
    table.length = 0;
  };
  for (const row of text.split("\n")) {
    if (/^\s*\|.*\|\s*$/.test(row)) {
      if (!/^\s*\|[\s:|-]+\|\s*$/.test(row)) table.push(row.trim());
      continue;
    }
    flushTable();
    out.push(line(row));
  }
  flushTable();
  return out.join("\n");
}

export function markdownToMrkdwn(markdown: string): string {
  const source = markdown.replace(MARKS, "\ufffd");
  let result = "";
  let last = 0;
  for (const match of source.matchAll(FENCE)) {
    result += prose(source.slice(last, match.index));
    result += "```\n" + escapeMrkdwn((match[1] ?? "").replace(/\n$/, "")) + "\n```";
    last = (match.index ?? 0) + match[0].length;
  }
  return result + prose(source.slice(last));
}
