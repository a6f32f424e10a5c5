import type { TableValue } from "../../core/execution-result.js";
import { discordSafeText } from "../../core/mentions.js";
import { codeBlock } from "../../core/markdown/fenced-code.js";
import { cellText, dataColumnsShown, displayWidth, isNumericDtype, MONOSPACE_GAP, monospaceLines, pickColumns, tableNote } from "../../core/table-text.js";

/**
 * A DataFrame or Series for Discord, which has no table: an aligned monospace table in a code
 * block, as many columns (index first) and rows as fit the room given. Widths come from the cells'
 * display width, so CJK and emoji (two columns each) stay aligned; numbers are right-aligned.
 * Cells are sandbox text: one line each, no control characters, and no backtick that could close
 * the code block (shown as ˋ); mentions defused although Discord does not ping from code.
 */

/** Columns of one cell: wider values are cut with "…". */
export const DISCORD_CELL_WIDTH = 24;
/** Columns of a whole line: wider tables wrap on most screens, and wrapped rows no longer line up. */
export const DISCORD_TABLE_WIDTH = 80;
/** Rows at most, however many would fit. */
export const DISCORD_TABLE_ROWS = 30;

export interface DiscordTable {
  /** The code block, at most maxChars characters; empty when not even the header fits. */
  text: string;
  /** What was left out ("Showing 20 of 1,000 rows…"), plain text for the delivery to show. */
  note?: string;
}

interface Cell {
  text: string;
  cut: boolean;
  width: number;
}

function cell(raw: string): Cell {
  const { text, cut } = cellText(raw.replace(/`/g, "\u02cb"), DISCORD_CELL_WIDTH, "width");
  const safe = discordSafeText(text);
  return { text: safe, cut, width: displayWidth(safe) };
}

function render(lines: Cell[][], widths: number[], right: boolean[]): string {
  return codeBlock(monospaceLines(lines, widths, right).join("\n"));
}

/**
 * The table as a ```code block``` of at most maxChars characters (Discord's messages hold 2,000):
 * columns are added, index first, while the line stays within DISCORD_TABLE_WIDTH, then as many of
 * the first DISCORD_TABLE_ROWS rows as fit. `csvName` is the attached CSV's name, for the note.
 */
export function monospaceTable(table: TableValue, maxChars: number, options: { csvName?: string } = {}): DiscordTable {
  const order = pickColumns(table, table.columns.length);
  const header = order.map((column) => cell(table.columns[column] ?? ""));
  const body = table.rows.slice(0, DISCORD_TABLE_ROWS).map((values) => order.map((column) => cell(values[column] ?? "")));
  const widthOf = (i: number, rows: number) => Math.max(1, header[i]?.width ?? 0, ...body.slice(0, rows).map((row) => row[i]?.width ?? 0));

  // Columns in order while the full-height line fits, at least one.
  let columnCount = 0;
  for (let width = 0; columnCount < order.length; columnCount++) {
    width += widthOf(columnCount, body.length) + (columnCount ? MONOSPACE_GAP.length : 0);
    if (width > DISCORD_TABLE_WIDTH && columnCount > 0) break;
  }

  // Fewer rows first, then fewer columns: a header without a single row says nothing.
  for (; columnCount > 0; columnCount--) {
    for (let rowCount = body.length; rowCount >= Math.min(1, body.length); rowCount--) {
      const indexes = Array.from({ length: columnCount }, (_, i) => i);
      const widths = indexes.map((i) => widthOf(i, rowCount));
      const right = indexes.map((i) => (order[i] ?? 0) >= table.indexColumns && isNumericDtype(table.dtypes[order[i] ?? 0]));
      const lines = [header, ...body.slice(0, rowCount)].map((row) => indexes.map((i) => row[i] ?? { text: "", cut: false, width: 0 }));
      const text = render(lines, widths, right);
      if (text.length > maxChars) continue;
      const shown = order.slice(0, columnCount);
      const cellsCut = [header, ...body.slice(0, rowCount)].some((row) => indexes.some((i) => row[i]?.cut));
      const note = tableNote(table, { rows: rowCount, dataColumns: dataColumnsShown(table, shown), cellsCut }, options.csvName);
      return note ? { text, note } : { text };
    }
  }
  const note = tableNote(table, { rows: 0, dataColumns: 0, cellsCut: false }, options.csvName);
  return note ? { text: "", note } : { text: "" };
}
