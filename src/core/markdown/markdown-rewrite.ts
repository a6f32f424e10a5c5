import type { Code, Image, Link, ListItem, Nodes, Root } from "mdast";
import { toString } from "mdast-util-to-string";
import { linkVerdict } from "./hostile-text-rules.js";
import type { Edit, TextTransforms } from "./markdown-edits.js";
import { pipeTable, textTable, type TextTable } from "./markdown-table.js";

/**
 * The chat renderer: the model's markdown written back as it was written (chat apps render
 * markdown themselves, and people see what the model wrote), with the edits a target needs, found
 * on the syntax tree (markdown-tree.ts, "chat"), never by scanning the text:
 * - links: the link policy (hostile-text-rules.ts: http(s) only, a label naming another address
 *   gets the real one beside it), titles dropped; images become links (nothing is loaded);
 * - code spans and blocks: their text through the target's code transform (Slack tokens and
 *   fences broken); fence lines rewritten as the target wants (```, a language or not), a block
 *   left open closed; indented code written as a fenced block (chat apps rarely know it);
 * - pipe tables as an aligned code block; thematic breaks and task boxes where a target draws them;
 * - everything else is prose, through the target's prose transform ("<", "](" and "]:" made
 *   harmless: no token, no link or link definition the policy didn't see).
 * Raw HTML and autolinks (<https://…>) are prose: shown as written. The result is a list of edits
 * (markdown-edits.ts) so that a stream can write any stable part of it.
 */
export interface RewriteTarget extends TextTransforms {
  /** The fence line a code block gets (a language for targets that highlight); undefined: fences kept as written. */
  fence?(lang: string | null | undefined): string;
  /** What follows a kept link's label: "(url)". */
  destination(url: string): string;
  /** The real address shown, in parentheses, after a label that names another one. */
  address(url: string): string;
  /** Text codebot writes (an image's alt text or address as a label), escaped to show as written. */
  literal(text: string): string;
  /** A pipe table as the lines of a code block, fences included. */
  table(table: TextTable): string[];
  /** A thematic break's line; undefined: kept as written. */
  rule?: string;
  /** A task list item's box; undefined: kept as written. */
  task?(checked: boolean): string;
}

export interface Rewrite {
  edits: Edit[];
  /** Ranges a piece of the rendering must not end inside (links, code spans, tables, fence lines). */
  atoms: Array<{ start: number; end: number }>;
}

interface Walk extends Rewrite {
  source: string;
  target: RewriteTarget;
}

/** Where the line holding `at` starts. */
const lineStart = (source: string, at: number) => source.lastIndexOf("\n", at - 1) + 1;

/** Where the line holding `at` ends (its newline, or `limit`). */
function lineEnd(source: string, at: number, limit: number): number {
  const newline = source.indexOf("\n", at);
  return newline < 0 || newline > limit ? limit : newline;
}

/** What the next lines of a block need before them: its line's prefix, list markers as spaces ("> ", "   "). */
export function continuation(source: string, at: number): string {
  return source.slice(lineStart(source, at), at).replace(/[^\s>]/g, " ");
}

function replace(walk: Walk, start: number, end: number, text: string): void {
  walk.edits.push({ start, end, text });
  walk.atoms.push({ start, end });
}

function code(walk: Walk, node: Code, start: number, end: number): void {
  const { source, target } = walk;
  if (!target.fence) return;
  const [open, close] = node.data?.fences ?? [];
  const prefix = continuation(source, start);
  if (!open) {
    const lines = [target.fence(null), ...node.value.split("\n").map((line) => target.code(line)), target.fence(null)];
    return replace(walk, start, end, lines.join(`\n${prefix}`));
  }
  const openEnd = lineEnd(source, open[0], end);
  replace(walk, open[0], openEnd, target.fence(node.lang));
  const contentEnd = close ? lineStart(source, close[0]) - 1 : end;
  if (openEnd + 1 < contentEnd) walk.edits.push({ start: openEnd + 1, end: contentEnd });
  if (close) return replace(walk, close[0], lineEnd(source, close[0], end), target.fence(null));
  // Left open: closed after its last character (where a block is known to end even while more may come).
  let last = end;
  while (last > openEnd && /\s/.test(source[last - 1] ?? "")) last--;
  walk.edits.push({ start: last, end: last, text: `\n${prefix}${target.fence(null)}`, closing: true });
}

function link(walk: Walk, node: Link, start: number, end: number): void {
  const { source, target } = walk;
  // An autolink (<https://…>) shows its address: prose, as written.
  if (source[start] !== "[") return;
  walk.atoms.push({ start, end });
  const label = toString(node);
  const verdict = linkVerdict(node.url, label);
  if (verdict && !label.trim()) {
    walk.edits.push({ start, end, text: `[${target.literal(verdict.url)}]${target.destination(verdict.url)}` });
    return;
  }
  const labelEnd = source.indexOf("](", node.children.at(-1)?.position?.end.offset ?? start + 1);
  if (!verdict || verdict.misleads) walk.edits.push({ start, end: start + 1, text: "" });
  children(walk, node, true);
  const tail = !verdict ? "" : verdict.misleads ? ` (${target.address(verdict.url)})` : `]${target.destination(verdict.url)}`;
  walk.edits.push({ start: labelEnd, end, text: tail });
}

function image(walk: Walk, node: Image, start: number, end: number, inLink: boolean): void {
  const { target } = walk;
  const alt = node.alt ?? "";
  const verdict = inLink ? undefined : linkVerdict(node.url, alt);
  let text = target.literal(alt);
  if (verdict && !alt.trim()) text = `[${target.literal(verdict.url)}]${target.destination(verdict.url)}`;
  else if (verdict) text = verdict.misleads ? `${text} (${target.address(verdict.url)})` : `[${text}]${target.destination(verdict.url)}`;
  replace(walk, start, end, text);
}

/** A task list item's box ("[ ]", "[x]") drawn as the target draws it. */
function task(walk: Walk, node: ListItem, start: number): void {
  if (typeof node.checked !== "boolean" || !walk.target.task) return;
  const until = node.children[0]?.position?.start.offset ?? start;
  const box = /\[[ xX]\]/.exec(walk.source.slice(start, until));
  if (box) replace(walk, start + box.index, start + box.index + 3, walk.target.task(node.checked));
}

function children(walk: Walk, node: Nodes, inLink: boolean): void {
  if ("children" in node) for (const child of node.children) visit(walk, child, inLink);
}

function visit(walk: Walk, node: Nodes, inLink = false): void {
  const start = node.position?.start.offset;
  const end = node.position?.end.offset;
  if (start === undefined || end === undefined) return children(walk, node, inLink);
  switch (node.type) {
    case "code":
      return code(walk, node, start, end);
    case "inlineCode": {
      const run = /^`+/.exec(walk.source.slice(start, end))?.[0].length ?? 1;
      walk.edits.push({ start: start + run, end: end - run });
      walk.atoms.push({ start, end });
      return;
    }
    case "link":
      return link(walk, node, start, end);
    case "image":
      return image(walk, node, start, end, inLink);
    case "table":
      if (pipeTable(node, walk.source)) return replace(walk, start, end, walk.target.table(textTable(node)).join(`\n${continuation(walk.source, start)}`));
      break;
    case "thematicBreak":
      if (walk.target.rule !== undefined) replace(walk, start, end, walk.target.rule);
      return;
    case "listItem":
      task(walk, node, start);
      break;
  }
  children(walk, node, inLink);
}

/** The edits that render `source` (whose chat-flavoured tree is `tree`) for the target. */
export function rewriteMarkdown(tree: Root, source: string, target: RewriteTarget): Rewrite {
  const walk: Walk = { source, target, edits: [], atoms: [] };
  visit(walk, tree);
  walk.edits.sort((a, b) => a.start - b.start || a.end - b.end);
  return { edits: walk.edits, atoms: walk.atoms };
}
