import { clipText, displayName, formatCount } from "./display-text.js";
import type { TableValue } from "./execution-result.js";
import { neutralizeMassMentions } from "./mentions.js";

/**
 * A table's cells as text a chat can show, shared by Slack's table block, Discord's monospace table
 * and the pipe tables of the model's markdown (markdown-table.ts): every cell is sandbox- or
 * model-controlled, so it becomes one line without control, invisible or direction-changing
 * characters (a U+202E in a cell would reverse the text after it) and is cut to a bound; the width a monospace font gives it (CJK and emoji take two columns, or columns drift);
 * which columns hold numbers (right-aligned); the lines of a monospace table; and the "Showing 20 of
 * 1,000 rows" note.
 */

/** Controls, line/paragraph separators, bidi marks, embeddings, overrides and isolates, zero-width characters, BOM. */
const UNSAFE_CELL_CHARS = /[\p{Cc}\p{Zl}\p{Zp}\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/gu;
/** Characters a terminal-like font draws with no width: combining marks, format characters, Hangul medial and final jamo. */
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}\u1160-\u11ff]$/u;
/** East Asian Wide and Fullwidth ranges (Unicode UAX #11) and emoji drawn as pictures: two columns each. */
const WIDE =
  /^[\p{Emoji_Presentation}\u1100-\u115f\u2329\u232a\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\ua960-\ua97f\uac00-\ud7a3\uf900-\ufaff\ufe10-\ufe19\ufe30-\ufe6f\uff00-\uff60\uffe0-\uffe6\u{16fe0}-\u{18cff}\u{1b000}-\u{1b2ff}\u{1f200}-\u{1f2ff}\u{20000}-\u{3fffd}]$/u;
/** pandas' numeric dtypes, numpy's and the nullable ones alike: int64, UInt8, Float64, complex128. */
const NUMERIC_DTYPE = /^(u?int|float|complex)(\d+)?$/i;

/** A cell, after cleaning and clipping: `cut` says some of its text is not shown. */
export interface CellText {
  text: string;
  cut: boolean;
}

/**
 * A cell's display text as one clean line: newlines and tabs become spaces, unsafe characters go,
 * and it is cut to max characters (or, with `width`, to that many monospace columns) marked with
 * "…". Only a bounded prefix of a huge cell is ever looked at.
 */
export function cellText(raw: string, max: number, measure: "chars" | "width" = "chars"): CellText {
  const bound = 4 * max + 64;
  const prefixOnly = raw.length > bound;
  const text = raw
    .slice(0, bound)
    .replace(/\r\n|[\r\n\t\v\f\u0085]/g, " ")
    .replace(UNSAFE_CELL_CHARS, "")
    .trim();
  const clipped = measure === "width" ? clipToWidth(text, max) : clipText(text, max);
  if (clipped !== text || !prefixOnly) return { text: clipped, cut: clipped !== text };
  const room = measure === "width" ? clipToWidth(text, max - 1, "") : clipText(text, max - 1).replace(/…$/, "");
  return { text: `${room}…`, cut: true };
}

/** Columns a monospace font gives one code point: 0, 1 or 2. */
function charWidth(char: string): number {
  if (ZERO_WIDTH.test(char)) return 0;
  return WIDE.test(char) ? 2 : 1;
}

/** Columns a monospace font gives the text (wide CJK and emoji count 2, combining marks 0). */
export function displayWidth(text: string): number {
  let width = 0;
  for (const char of text) width += charWidth(char);
  return width;
}

/** Cuts text to at most max columns, marking the cut with the suffix (counted in the width). */
export function clipToWidth(text: string, max: number, suffix = "…"): string {
  if (displayWidth(text) <= max) return text;
  const room = max - displayWidth(suffix);
  let out = "";
  let width = 0;
  for (const char of text) {
    const w = charWidth(char);
    if (width + w > room) break;
    out += char;
    width += w;
  }
  return `${out}${suffix}`;
}

/** Pads text with spaces to the given width, on the right (left-aligned) or the left (right-aligned). */
export function padToWidth(text: string, width: number, align: "left" | "right", textWidth = displayWidth(text)): string {
  const pad = " ".repeat(Math.max(0, width - textWidth));
  return align === "right" ? pad + text : text + pad;
}

/** A cell laid out in a monospace table: its text and the columns it takes. */
export interface LaidCell {
  text: string;
  width: number;
}

/** What lies between two cells of a ruled table. */
export const MONOSPACE_GAP = "  ";

/**
 * Rows of cells in a monospace font, each cell padded to its column's width (right-aligned where
 * `right` says): "ruled" puts a line of dashes under the first row (the header) and the columns two
 * spaces apart; "piped" draws every row between pipes ("| a | b |"). Every line has the same width.
 */
export function monospaceLines(rows: readonly LaidCell[][], widths: readonly number[], right: readonly boolean[], style: "ruled" | "piped" = "ruled"): string[] {
  const line = (cells: readonly LaidCell[]) => widths.map((width, i) => padToWidth(cells[i]?.text ?? "", width, right[i] ? "right" : "left", cells[i]?.width ?? 0));
  if (style === "piped") return rows.map((cells) => `| ${line(cells).join(" | ")} |`);
  const [header = [], ...body] = rows;
  return [line(header).join(MONOSPACE_GAP), widths.map((width) => "-".repeat(width)).join(MONOSPACE_GAP), ...body.map((cells) => line(cells).join(MONOSPACE_GAP))];
}

export function isNumericDtype(dtype: string | undefined): boolean {
  return dtype !== undefined && NUMERIC_DTYPE.test(dtype.trim());
}

/**
 * The columns to show, in order, at most max: the index's columns first (the rows' labels), then the
 * data's; at least one data column when there is one, however deep the index.
 */
export function pickColumns(table: TableValue, max: number): number[] {
  const count = table.columns.length;
  const index = Math.min(table.indexColumns, count);
  const data = count - index;
  const indexShown = Math.min(index, Math.max(0, max - (data > 0 ? 1 : 0)));
  const dataShown = Math.min(data, Math.max(0, max - indexShown));
  return [...Array.from({ length: indexShown }, (_, i) => i), ...Array.from({ length: dataShown }, (_, i) => index + i)];
}

/** How many of the table's data columns (not the index's) are among the shown columns. */
export function dataColumnsShown(table: TableValue, columns: readonly number[]): number {
  return columns.filter((column) => column >= table.indexColumns).length;
}

/** What a rendering left out, for its note. */
export interface ShownPart {
  rows: number;
  /** Data columns shown (the index's columns are not counted, as in totalColumns). */
  dataColumns: number;
  /** True when some shown cell was cut. */
  cellsCut: boolean;
}

/**
 * "Showing 20 of 1,000 rows and 10 of 30 columns; the full data is in table-2.csv", or undefined
 * when everything is shown. Plain text (the file name made one safe line, mass mentions defused);
 * the platform still escapes it.
 */
export function tableNote(table: TableValue, shown: ShownPart, csvName?: string): string | undefined {
  const totalRows = Math.max(table.totalRows, table.rows.length);
  const totalColumns = Math.max(table.totalColumns, table.columns.length - Math.min(table.indexColumns, table.columns.length));
  const hidden: string[] = [];
  if (shown.rows < totalRows) hidden.push(`${formatCount(shown.rows)} of ${formatCount(totalRows)} row${totalRows === 1 ? "" : "s"}`);
  if (shown.dataColumns < totalColumns) {
    hidden.push(`${formatCount(shown.dataColumns)} of ${formatCount(totalColumns)} column${totalColumns === 1 ? "" : "s"}`);
  }
  if (!hidden.length && !shown.cellsCut) return undefined;
  let note = hidden.length ? `Showing ${hidden.join(" and ")}` : "Long values are cut";
  if (hidden.length && shown.cellsCut) note += " (long values are cut)";
  if (csvName) {
    const name = neutralizeMassMentions(displayName(csvName));
    note += table.csv && !table.csv.complete ? `; ${name} has the data up to the size limit` : `; the full data is in ${name}`;
  }
  return note;
}
