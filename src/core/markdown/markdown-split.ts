import type { Nodes } from "mdast";
import { continuation } from "./markdown-rewrite.js";
import { parseMarkdown } from "./markdown-tree.js";

/**
 * Markdown cut into pieces a chat takes (Slack's blocks of 12,000 characters, Discord's messages of
 * 2,000): at a paragraph outside code where possible, else a line, a space, anywhere safe. A fenced
 * code block that must be cut is closed at the end of one piece and reopened (its opening line, a
 * language kept) at the start of the next, so no piece leaves a block open. The code blocks are
 * found by parsing the text (markdown-tree.ts), not by matching fence-like lines.
 */

/** A fenced code block of the text: its opening line's start, where its content starts and ends, how to reopen and close it. */
interface Block {
  line: number;
  content: number;
  end: number;
  open: string;
  close: string;
}

/** A closing fence longer than this (a run of hundreds of backticks) is not worth room in every piece: such a block is cut as text. */
const MAX_FENCE_CHARS = 64;
/** An opening line longer than this reopens its block without its info string. */
const MAX_REOPEN_CHARS = 100;

/** A line that may be a fence, after any container markers: no such line, no fenced block (and no parse). */
const FENCE_LIKE = /^[ \t>]*(?:(?:[-*+]|\d{1,9}[.)])[ \t]+[ \t>]*)*(?:`{3,}|~{3,})/m;

function fencedBlocks(text: string): Block[] {
  const tree = FENCE_LIKE.test(text) ? parseMarkdown(text, "chat") : undefined;
  const blocks: Block[] = [];
  const visit = (node: Nodes): void => {
    const [open, close] = (node.type === "code" ? node.data?.fences : undefined) ?? [];
    if (open && node.position) {
      const prefix = continuation(text, open[0]);
      const newline = text.indexOf("\n", open[0]);
      const content = newline < 0 ? text.length : newline + 1;
      const fence = `${prefix}${text.slice(open[0], open[1])}`;
      const line = `${prefix}${text.slice(open[0], content).trimEnd()}`;
      const end = close ? text.lastIndexOf("\n", close[0]) : (node.position.end.offset ?? text.length);
      if (fence.length <= MAX_FENCE_CHARS) blocks.push({ line: open[0] - prefix.length, content, end, open: line.length <= MAX_REOPEN_CHARS ? line : fence, close: fence });
    } else if ("children" in node) node.children.forEach(visit);
  };
  if (tree) visit(tree);
  return blocks;
}

/** The block whose content holds position `at` (a piece ending there leaves it open), if any. */
const blockAt = (blocks: readonly Block[], at: number) => blocks.find((block) => block.content <= at && at <= block.end);

/** Where to cut text[from…] to at most `room` characters: a paragraph outside code, a line, a space, else anywhere safe. */
function cutAt(text: string, from: number, room: number, blocks: readonly Block[]): number {
  const limit = from + room;
  let paragraph = -1;
  for (let at = text.indexOf("\n", from); at >= 0 && at < limit; at = text.indexOf("\n", at + 1)) {
    const next = text.indexOf("\n", at + 1);
    if (at > from && next >= 0 && next <= limit && !text.slice(at + 1, next).trim() && !blockAt(blocks, at)) paragraph = at + 1;
  }
  if (paragraph > from + room / 2) return paragraph;
  for (const separator of ["\n", " "]) {
    const at = text.lastIndexOf(separator, limit - 1);
    if (at > from + room / 2) return at + 1;
  }
  let at = limit;
  const amp = text.lastIndexOf("&", at - 1);
  if (amp >= 0 && amp > at - 4 && text.startsWith("&lt;", amp)) at = amp;
  if (/[\ud800-\udbff]/.test(text[at - 1] ?? "")) at--;
  return Math.max(from + 1, at);
}

/**
 * Text cut into pieces of at most `limit` characters (a few hundred at least); `count` stops after
 * that many pieces. A piece that ends inside a code block closes it; the next reopens it.
 */
export function splitMarkdown(markdown: string, limit: number, count = Number.POSITIVE_INFINITY): string[] {
  const text = markdown.trim();
  const blocks = fencedBlocks(text);
  // Room to close a code block: a newline and its closing fence; a reopened block's line comes off the next piece's room.
  const room = limit - 1 - Math.max(3, ...blocks.map((block) => block.close.length));
  if (room < 100) throw new RangeError(`no room to split markdown into pieces of ${limit} characters`);
  const pieces: string[] = [];
  let at = 0;
  let reopen = "";
  while (at < text.length && pieces.length < count) {
    const head = reopen ? `${reopen}\n` : "";
    if (head.length + text.length - at <= limit) {
      if (text.slice(at).trim()) pieces.push(head + text.slice(at));
      break;
    }
    let cut = cutAt(text, at, room - head.length, blocks);
    // Not inside a block's opening line: the block starts the next piece instead.
    const opening = blocks.find((block) => block.line > at && block.line < cut && cut < block.content);
    if (opening) cut = opening.line;
    const inside = blockAt(blocks, cut);
    const piece = `${head}${text.slice(at, cut).trimEnd()}`;
    if (piece.trim()) pieces.push(inside ? `${piece}\n${inside.close}` : piece);
    reopen = inside ? inside.open : "";
    at = cut;
    while (text[at] === "\n") at++;
  }
  return pieces;
}
