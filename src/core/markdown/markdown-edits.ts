/**
 * The chat renderers write the model's markdown back as it was written, changed only where a
 * target needs it (markdown-rewrite.ts): a list of edits over the source, everything between them
 * prose. This module holds the edits and writes the result for any range of the source, so a
 * streamed answer can send it a piece at a time.
 */

/** [start, end) of the source replaced by `text`, or (no text) passed through the target's code transform. */
export interface Edit {
  start: number;
  end: number;
  text?: string;
  /** What closes a code block the source left open: written only once the source is known to end there. */
  closing?: boolean;
}

/** How a target writes prose and code it keeps. */
export interface TextTransforms {
  /** source[from, to) of prose (the source around it given for what follows: "<" may need to see it). */
  prose(source: string, from: number, to: number): string;
  /** Text of code (a code span's, a code block's lines). */
  code(text: string): string;
}

/**
 * The rendering of source[from, to), given edits sorted by start that don't overlap: prose between
 * edits, each edit's text, or its code (the part of it in the range). A replacing edit belongs to
 * the range its start is in (ranges never end inside one); an edit of no length (a closing fence)
 * to the range it is in, or, at the very end of the source, to the last range when `closing`.
 */
export function applyEdits(source: string, edits: readonly Edit[], transforms: TextTransforms, from = 0, to = source.length, closing = true): string {
  let out = "";
  let at = from;
  for (const edit of edits) {
    if (edit.start > to) break;
    if (edit.start === edit.end) {
      const last = edit.start === source.length && closing;
      if (edit.start < from || (edit.start === to && !last)) continue;
    } else if (edit.end <= from || edit.start >= to || (edit.text !== undefined && edit.start < from)) continue;
    const start = Math.max(edit.start, from);
    const end = Math.min(edit.end, to);
    out += transforms.prose(source, at, start);
    out += edit.text ?? transforms.code(source.slice(start, end));
    at = Math.max(at, end);
  }
  return out + transforms.prose(source, at, to);
}

/** `at`, moved back to the start of any range it falls strictly inside: where a piece of the rendering may end. */
export function outsideRanges(ranges: ReadonlyArray<{ start: number; end: number }>, at: number): number {
  let cut = at;
  for (let moved = true; moved; ) {
    moved = false;
    for (const range of ranges) {
      if (range.start < cut && cut < range.end) {
        cut = range.start;
        moved = true;
      }
    }
  }
  return cut;
}
