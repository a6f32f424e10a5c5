import { closesFence, fenceOpening, type FenceOpening } from "./fenced-code.js";

/**
 * How deep a tree may nest (quotes in lists in quotes…). Deeper text ("> > > …" thousands of
 * times) is refused as markdown, so that no visitor or renderer recursing over the tree can run
 * out of stack, whatever the caller's own depth: it is shown as plain text instead.
 */
export const MAX_MARKDOWN_DEPTH = 64;

/** One container marker at the start of a line: a quote's ">", a list item's "-", "*", "+" or "1." (with the space after it). */
const MARKER = /[ \t]*(?:>[ \t]?|(?:[-*+]|\d{1,9}[.)])[ \t]+)/y;
/** A line that may start an HTML block, inside which a fence line is no fence. */
const HTML_START = /^ {0,3}</;

/** True when the line [start, end) starts with more container markers than MAX_MARKDOWN_DEPTH. */
function deepLine(markdown: string, start: number, end: number): boolean {
  MARKER.lastIndex = start;
  let depth = 0;
  while (MARKER.lastIndex < end && MARKER.exec(markdown)) if (++depth > MAX_MARKDOWN_DEPTH) return true;
  return false;
}

/**
 * True when a line opens more containers than MAX_MARKDOWN_DEPTH at once ("> - > - …"): found before
 * parsing, as the parser's work grows with the depth squared on such a line and with the depth on
 * every line after it (12,000 characters of "- " take micromark 20 s). Lines inside a fenced code
 * block are code, not containers, and are passed over, for the blocks that are certain from the
 * lines alone: a fence at the start of a line (no list item or quote can hold it) with no line
 * before it that may open an HTML block (where a fence line is HTML). Elsewhere a deep line counts
 * wherever it is: the text is then shown as plain text, never parsed slowly.
 */
export function nestsTooDeep(markdown: string): boolean {
  let fence: FenceOpening | undefined;
  let certain = true;
  for (let start = 0; start < markdown.length; ) {
    const newline = markdown.indexOf("\n", start);
    const end = newline < 0 ? markdown.length : newline;
    const line = markdown.slice(start, end);
    if (fence) {
      if (closesFence(line, fence)) fence = undefined;
    } else if (deepLine(markdown, start, end)) return true;
    else if (certain) {
      const opening = fenceOpening(line);
      if (opening?.indent === 0) fence = opening;
      else if (HTML_START.test(line)) certain = false;
    }
    start = end + 1;
  }
  return false;
}
