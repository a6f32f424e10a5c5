import type { Table } from "mdast";
import { toString } from "mdast-util-to-string";
import { cellText, displayWidth, monospaceLines, type LaidCell } from "../table-text.js";

/**
 * A pipe table of the model's markdown (a GFM `table` node) as one table model, which each target
 * lays out its own way: an aligned code block for Slack's markdown, Discord and the terminal (none
 * of them draws tables), rows between pipes for Slack's mrkdwn.
 */
/** Columns of one cell at most. */
export const TABLE_CELL_WIDTH = 40;

export interface TextTable {
  header: string[];
  rows: string[][];
  /** Columns marked right-aligned (---:). */
  right: boolean[];
}

/**
 * True for a table drawn with pipes. GFM also reads a line over a pipe-less delimiter row (":---")
 * as a one-column table; chat renderers leave that as written, so a streamed line needn't wait for
 * the next to know it is no table's header.
 */
export function pipeTable(node: Table, source: string): boolean {
  const start = node.position?.start.offset ?? 0;
  const second = source.indexOf("\n", start);
  const third = second < 0 ? -1 : source.indexOf("\n", second + 1);
  return source.slice(start, third < 0 ? undefined : third).includes("|");
}

/** The table's cells as plain text (markup gone, a code span's text kept, a link's label), and its alignment. */
export function textTable(node: Table): TextTable {
  const [header = [], ...rows] = node.children.map((row) => row.children.map((cell) => toString(cell)));
  return { header, rows, right: (node.align ?? []).map((align) => align === "right") };
}

/**
 * The table in a monospace font: each cell one clean line of at most TABLE_CELL_WIDTH columns
 * (cellText), then `defuse`d for the target (mentions), every column as wide as its widest cell,
 * "ruled" or "piped" (monospaceLines).
 */
export function tableLines(table: TextTable, style: "ruled" | "piped", defuse: (text: string) => string = (text) => text): string[] {
  const rows: LaidCell[][] = [table.header, ...table.rows].map((row) =>
    row.map((raw) => {
      const text = defuse(cellText(raw, TABLE_CELL_WIDTH, "width").text);
      return { text, width: displayWidth(text) };
    }),
  );
  const count = Math.max(0, ...rows.map((row) => row.length));
  const widths = Array.from({ length: count }, (_, i) => Math.max(1, ...rows.map((row) => row[i]?.width ?? 0)));
  return monospaceLines(rows, widths, table.right, style);
}

/** The table as an aligned code block's lines (fences included), for targets that draw no tables: its lines through the target's code transform. */
export function tableCodeBlock(table: TextTable, defuse: (text: string) => string, code: (text: string) => string): string[] {
  return ["```", ...tableLines(table, "ruled", defuse).map(code), "```"];
}
