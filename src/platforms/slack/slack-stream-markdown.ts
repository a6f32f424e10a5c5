import { mentionSafeEnd } from "../../core/answer-draft.js";
import { linkAt } from "./slack-markdown.js";
import { neutralizeMassMentions } from "../../core/mentions.js";
import { closesFence, closingRun, codeText, fenceOpening, safeInline, withoutUnsafe } from "./slack-markdown-inline.js";

/**
 * The answer's text as it streams into Slack, made safe by the same rules as the final answer's
 * markdown blocks (slack-markdown-inline.ts): fenced code as code, links only to http(s) with an
 * honest label, Slack tokens broken. Slack shows the pieces of a stream joined, so a piece never
 * ends inside something the rules must see whole: a link that might still be completing (its "["
 * is held back until its ")" comes, or it's clear it is no link), an open code span (its backtick
 * run is held until it closes), a line that may open or close a code block. Each piece starts where
 * the final answer's line scanner would be, so the pieces put together are what it makes of the
 * lines, "<" aside (a zero-width space after a "<" that could open a token, as streamed text has
 * always had, where markdown blocks write &lt;).
 */
export class StreamedMarkdown {
  /** The code block the text is in, when it is in one. */
  private fence: { indent: string; marker: string } | undefined;
  /** How much of the source has gone out. */
  private done = 0;

  /** What closes the code block the text so far leaves open ("\n```" at its indent), else "". */
  get closing(): string {
    return this.fence ? `\n${this.fence.indent}\`\`\`` : "";
  }

  /**
   * The safe markdown for what of source[0, end) has not gone out yet, up to where a piece may end
   * (final: everything up to end, the end taken as a line's end).
   */
  next(source: string, end: number, final: boolean): string {
    // Nor does a piece end inside a mention (the draft holds those back too; this keeps it so for any caller).
    if (!final) end = Math.max(this.done, mentionSafeEnd(source, end));
    let out = "";
    while (this.done < end) {
      const lineStart = source.lastIndexOf("\n", this.done - 1) + 1;
      const newline = source.indexOf("\n", this.done);
      const lineEnd = newline >= 0 && newline < end ? newline : end;
      const complete = lineEnd < end || final;
      const line = source.slice(lineStart, lineEnd);
      if (!complete && this.maybeFenceLine(line)) break;
      const taken = complete && this.done === lineStart ? this.fenceLine(line) : undefined;
      let piece: string;
      let stop: number;
      if (taken !== undefined) [piece, stop] = [taken, lineEnd];
      else if (this.fence) {
        // Code: all of it, but a trailing run of backticks, which may grow into a fence.
        stop = complete ? lineEnd : lineEnd - (/`+$/.exec(source.slice(this.done, lineEnd))?.[0].length ?? 0);
        piece = codeText(clean(source, this.done, stop));
      } else {
        stop = complete ? lineEnd : proseCut(source.slice(0, lineEnd), this.done);
        piece = safeInline(clean(source, this.done, stop), { lt: "break" });
      }
      out += piece;
      this.done = stop;
      if (stop < lineEnd || !complete) break;
      if (lineEnd < end) {
        out += "\n";
        this.done = lineEnd + 1;
      } else break;
    }
    return out;
  }

  /** A whole line that opens or closes a code block, as the final answer writes it (``` at its indent); undefined for any other. */
  private fenceLine(line: string): string | undefined {
    if (this.fence) {
      if (!closesFence(line, this.fence.marker)) return undefined;
      const closed = `${this.fence.indent}\`\`\``;
      this.fence = undefined;
      return closed;
    }
    const open = fenceOpening(line);
    if (!open) return undefined;
    this.fence = open;
    return `${open.indent}\`\`\``;
  }

  /** True when the start of a line not yet complete may still become a fence line. */
  private maybeFenceLine(line: string): boolean {
    return /^\s*(?:`*|~*)$/.test(line) || (this.fence ? closesFence(line, this.fence.marker) : fenceOpening(line) !== undefined);
  }
}

/**
 * source[from, to), cleaned as the final answer cleans its text (a line's \r goes: lines end at
 * \n). Whether "@here" is a mention depends on the character before it ("a@here" is an address):
 * that character is taken into account, as it is when the text is cleaned whole.
 */
function clean(source: string, from: number, to: number): string {
  const before = /[\p{L}\p{N}.@]/u.test(source[from - 1] ?? "") ? "a" : " ";
  return neutralizeMassMentions(before + withoutUnsafe(source.slice(from, to).replace(/\r/g, ""))).slice(1);
}

/**
 * Where a piece of an unfinished line of prose may end: at `text`'s end, or before the first code
 * span or possible link that isn't complete yet. The scan jumps as safeInline's does (code spans,
 * links, backslash escapes), so the next piece starts where safeInline would be.
 */
function proseCut(text: string, from: number): number {
  for (let i = from; i < text.length; ) {
    const c = text[i];
    // The last character may join what comes next: "\\" + "[", "!" + "[", "]" + "(".
    if (i === text.length - 1 && (c === "\\" || c === "!" || c === "]")) return i;
    if (c === "\\") {
      i += 2;
      continue;
    }
    if (c === "`") {
      let end = i;
      while (text[end] === "`") end++;
      const close = closingRun(text, end, end - i);
      if (close < 0) return i;
      i = close + (end - i);
      continue;
    }
    if (c === "[" || (c === "!" && text[i + 1] === "[")) {
      const link = linkAt(text, i);
      if (link) {
        i = link.end;
        continue;
      }
      if (mayBecomeLink(text, c === "!" ? i + 1 : i)) return i;
    }
    i++;
  }
  return text.length;
}

/**
 * Whether the "[" at `open` can still start a link as more text comes: its label isn't closed yet,
 * or is closed at the very end, or is followed by "(" (the destination still coming).
 */
function mayBecomeLink(text: string, open: number): boolean {
  for (let i = open + 1, depth = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "\\") i++;
    else if (c === "[") depth++;
    else if (c === "]" && depth-- === 0) return i + 1 >= text.length || text[i + 1] === "(";
  }
  return true;
}
