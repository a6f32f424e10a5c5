import type { Nodes, Root } from "mdast";
import { mentionSafeEnd } from "../answer-draft.js";
import { applyEdits, outsideRanges, type Edit } from "./markdown-edits.js";
import { rewriteMarkdown, type RewriteTarget } from "./markdown-rewrite.js";
import { pipeTable } from "./markdown-table.js";
import { parseMarkdown } from "./markdown-tree.js";

/**
 * A last block longer than this is read again only once it has grown by half since it was last
 * read: every reading parses the whole block (micromark, up to ~30 µs a character for text made of
 * markup), so a block that never ends (one long paragraph) costs the stream about three readings
 * of it in all, not one per flush. Its text then arrives in fewer, larger pieces.
 */
const REREAD_FREE_CHARS = 1000;

/**
 * Markdown rendered as it streams (chat-markdown.ts's rendering, a piece at a time): the pieces put
 * together are what rendering the whole text gives. A chat shows the pieces joined and can't take
 * one back, so a piece ends only where what comes next can't change it:
 * - not inside a mention (mentionSafeEnd), nor inside what is written whole (a link, an image, a
 *   code span, a fence line, a table), nor past one that may still grow;
 * - not past a "[" or "![" that more text may make a link, nor a run of backticks that more text
 *   may make a code span (both end with their paragraph), nor a last "\", "!" or "]";
 * - an unfinished line that may still become a line of another kind (fence, rule, heading, list
 *   item, delimiter row…) waits whole; so does a line with a pipe until the next line shows it is
 *   no table's header; a table goes out whole (its columns are aligned);
 * - a code block left open is closed at the end, or once the text shows where it ended.
 * A table whose header line went out before its delimiter row arrived can't be taken back: it goes
 * on as written (prose, under the same rules). Each call parses only the text's last top-level
 * block: blocks before it are closed, and nothing written later can change them (definitions
 * aside, which no chat renderer resolves).
 */
export class MarkdownStream {
  /** How much of the cleaned text has gone out. */
  private done = 0;
  /** Where the last top-level block started: the text before it is final. */
  private stable = 0;
  /** What closes the code block the text so far leaves open. */
  private open = "";
  /** How long the cleaned text was at the last call. */
  private seen = -1;
  /** How long the text was when the last block was last read. */
  private readAt = 0;

  constructor(
    private readonly target: RewriteTarget,
    private readonly clean: (text: string) => string,
  ) {}

  /** What closes the code block the text so far leaves open ("\n```" at its indent), else "". */
  get closing(): string {
    return this.open;
  }

  /**
   * The rendering of what of source[0, end) has not gone out yet, up to where a piece may end
   * (final: everything up to end, and a code block left open closed).
   */
  next(source: string, end: number, final: boolean): string {
    let rawEnd = end;
    if (!final) {
      rawEnd = mentionSafeEnd(source, end);
      // A line's "\r" waits for its "\n": the two are one line end.
      if (source[rawEnd - 1] === "\r") rawEnd--;
    }
    const whole = this.clean(source.slice(0, rawEnd));
    // Nothing new (a step's update asks for a flush too): nothing more can go out.
    if (!final && (whole.length <= this.done || whole.length === this.seen)) return "";
    this.seen = whole.length;
    // An unfinished line that may still become a line of another kind (a fence, a rule, a heading,
    // a list item, a table's delimiter row…) waits, and isn't read yet: as what it is now it could
    // end the paragraph before it, which it may not once complete.
    const lastLine = whole.lastIndexOf("\n") + 1;
    const text = !final && lastLine < whole.length && !plainLine(whole.slice(lastLine)) ? whole.slice(0, lastLine) : whole;
    const base = this.stable;
    // A long last block is read again only once it has grown by half: the stream reads it a few times, not at every flush.
    if (!final && text.length - base > REREAD_FREE_CHARS && text.length - this.readAt < (text.length - base) / 2) return "";
    this.readAt = text.length;
    const tree = parseMarkdown(text.slice(base), "chat");
    if (!tree) {
      // Nested past reading: shown defused at the end (see renderChatMarkdown).
      if (!final) return "";
      const rest = text.slice(this.done);
      this.done = text.length;
      return this.target.code(this.target.prose(rest, 0, rest.length));
    }
    const rewrite = rewriteMarkdown(tree, text.slice(base), this.target);
    const edits = rewrite.edits.map((edit) => ({ ...edit, start: edit.start + base, end: edit.end + base }));
    const atoms = [...edits.filter((edit) => edit.text !== undefined), ...rewrite.atoms.map((atom) => ({ start: atom.start + base, end: atom.end + base }))];
    // The last block's line (its indentation is outside the node, and counts when it is read again).
    const lastStart = text.lastIndexOf("\n", base + (tree.children.at(-1)?.position?.start.offset ?? text.length - base) - 1) + 1;
    // What is written whole (a link, a code span, an indented code block…) waits while it may still grow.
    const ink = text.trimEnd().length;
    const growing = atoms.filter((atom) => atom.end >= ink).map((atom) => atom.start);
    const cut = final ? text.length : Math.max(this.done, outsideRanges(atoms, Math.min(holdAt(text, tree, base, edits), ...growing)));
    const out = applyEdits(text, edits, this.target, this.done, cut, final);
    this.open = final ? "" : edits.filter((edit) => edit.closing && edit.start >= cut).map((edit) => edit.text).join("");
    this.done = cut;
    if (cut >= lastStart) this.stable = lastStart;
    return out;
  }
}

/** Brackets and backtick runs in the literal text of a node (escaped ones aside), in order. */
function literalMarks(text: string, node: Nodes, base: number, marks: number[]): void {
  if (node.type === "text" && node.position) {
    const to = base + (node.position.end.offset ?? 0);
    for (let i = base + (node.position.start.offset ?? 0); i < to; i++) {
      const c = text[i];
      if (c === "\\") i++;
      else if (c === "[" || c === "]") marks.push(i);
      else if (c === "`") {
        marks.push(i);
        while (text[i + 1] === "`") i++;
      }
    }
  }
  if ("children" in node) for (const child of node.children) literalMarks(text, child, base, marks);
}

/**
 * Where the literal text of the last block may still change: at a "[" (or "![") more text may make
 * a link (its label not closed, closed at the very end, or followed by "("), at a run of backticks
 * no code span took, at a table. Marks before the text's last blank line are settled: links and
 * code spans end with their paragraph.
 */
function inlineHold(text: string, block: Nodes, base: number): number {
  let hold = text.length;
  const tables: number[] = [];
  const findTables = (node: Nodes): void => {
    if (node.type === "table" && node.position && pipeTable(node, text.slice(base))) tables.push(base + (node.position.start.offset ?? 0));
    else if ("children" in node) node.children.forEach(findTables);
  };
  findTables(block);
  hold = Math.min(hold, ...tables);
  const marks: number[] = [];
  literalMarks(text, block, base, marks);
  const settled = Math.max(...[...text.slice(base).matchAll(/\n[ \t>]*\n/g)].map((blank) => base + (blank.index ?? 0) + blank[0].length), 0);
  const closes = new Map<number, number>();
  const open: number[] = [];
  for (const at of marks) {
    if (text[at] === "[") open.push(at);
    else if (text[at] === "]" && open.length) closes.set(open.pop() as number, at);
  }
  for (const at of marks) {
    if (at < settled || at >= hold) continue;
    if (text[at] === "`") hold = at;
    else if (text[at] === "[") {
      const close = closes.get(at);
      // A task's box ("- [ ] ") is one only once something follows it.
      const box = close === at + 2 && /^\[[ xX]\]\s*$/.test(text.slice(at));
      if (box || close === undefined || close + 1 >= text.length || text[close + 1] === "(") hold = text[at - 1] === "!" && text[at - 2] !== "\\" ? at - 1 : at;
    }
  }
  return hold;
}

/**
 * True when an unfinished line stays the kind of line it is whatever comes next on it: after its
 * container markers ("> ", "- "), it starts with a character that starts no block (a fence, rule,
 * heading, quote, list item, HTML, table row or underline all start with one of #>`~-*+_=|<: or a digit).
 */
function plainLine(line: string): boolean {
  const content = line.replace(/^(?:[ \t]*>[ ]?|[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+)*/, "");
  return /^[ \t]*[^\s#>`~\-*+_=|<:\d]/.test(content);
}

/** Where a piece of the text may end at most (before the rendering's atoms are taken into account). */
function holdAt(text: string, tree: Root, base: number, edits: readonly Edit[]): number {
  let hold = text.length;
  const lastLine = text.lastIndexOf("\n") + 1;
  // A last character that may join the next: "\" + "[", "!" + "[", "]" + "(", and runs of backticks.
  const tail = /(?:`+|[\\!\]])$/.exec(text.slice(lastLine));
  if (tail) hold = Math.min(hold, lastLine + tail.index);
  // The last complete line may be a table's header until the next line says otherwise.
  const completeEnd = lastLine < text.length ? lastLine - 1 : text.length - 1;
  const complete = text.lastIndexOf("\n", completeEnd - 1) + 1;
  if (completeEnd > complete && text.slice(complete, completeEnd).includes("|")) hold = Math.min(hold, complete);
  const last = tree.children.at(-1);
  if (last) hold = Math.min(hold, inlineHold(text, last, base));
  // A code block still open at the end is closed only when more text (or the end) says so.
  const ink = text.trimEnd().length;
  for (const edit of edits) if (edit.closing && edit.start >= ink) hold = Math.min(hold, edit.start);
  return hold;
}
