import type { RawTextElement, TableBlock } from "@slack/web-api";
import type { TableValue } from "../../core/execution-result.js";
import { cellText, dataColumnsShown, isNumericDtype, pickColumns, tableNote } from "../../core/table-text.js";
import { slackMarkdownSafe } from "./slack-markdown-target.js";

/**
 * A DataFrame or Series as Slack's table block (https://docs.slack.dev/reference/block-kit/blocks/table-block):
 * the first row is the header, then the first rows of data, numbers right-aligned, text wrapped.
 * Slack rejects the whole message when a table breaks its limits, so every one is kept here:
 * at most 100 rows and 20 cells a row (documented), raw_text at least one character long
 * (@slack/types), and about 10,000 characters over all cells (not in the reference, reported by
 * projects that hit it). A message may carry only one table block, in `attachments`, not `blocks`
 * (docs: "providing a table block in the attachments field"); the delivery places it.
 */

/** Slack's caps: rows (header included) and cells per row. */
export const SLACK_TABLE_MAX_ROWS = 100;
export const SLACK_TABLE_MAX_COLUMNS = 20;
/** All cells' text together, with room to spare under the cap others hit. */
export const SLACK_TABLE_MAX_CHARS = 10_000;
/** What a chat message shows by default; the rest is in the CSV. */
export const TABLE_ROWS_SHOWN = 20;
export const TABLE_COLUMNS_SHOWN = 10;
export const TABLE_CELL_CHARS = 80;
/** Slack rejects an empty raw_text cell, so an empty value shows as a dash. */
export const EMPTY_CELL = "–";

type ColumnSetting = NonNullable<TableBlock["column_settings"]>[number];

function cell(text: string): RawTextElement {
  return { type: "raw_text", text: text || EMPTY_CELL };
}

export interface SlackTable {
  block: TableBlock;
  /** What was left out ("Showing 20 of 1,000 rows…"), plain text for the delivery to escape and show. */
  note?: string;
}

/**
 * The table as a Slack table block within Slack's limits: index columns first, then data columns,
 * TABLE_COLUMNS_SHOWN in all, at most TABLE_ROWS_SHOWN rows (fewer when long cells would pass the
 * character cap), each cell one clean line of at most TABLE_CELL_CHARS characters.
 * `csvName` is the attached CSV's name, for the note.
 */
export function tableBlock(table: TableValue, options: { csvName?: string } = {}): SlackTable {
  const columns = pickColumns(table, Math.min(TABLE_COLUMNS_SHOWN, SLACK_TABLE_MAX_COLUMNS));
  let cellsCut = false;
  const line = (values: readonly string[]) =>
    columns.map((column) => {
      const { text, cut } = cellText(values[column] ?? "", TABLE_CELL_CHARS);
      cellsCut ||= cut;
      // raw_text is shown as it is, but defence in depth: no mass mention, no token, should Slack ever parse it.
      return slackMarkdownSafe(text) || EMPTY_CELL;
    });
  const header = line(table.columns);
  let chars = header.reduce((sum, text) => sum + text.length, 0);
  const rows: string[][] = [];
  for (const values of table.rows.slice(0, Math.min(TABLE_ROWS_SHOWN, SLACK_TABLE_MAX_ROWS - 1))) {
    const row = line(values);
    const length = row.reduce((sum, text) => sum + text.length, 0);
    if (chars + length > SLACK_TABLE_MAX_CHARS) break;
    rows.push(row);
    chars += length;
  }
  const settings: ColumnSetting[] = columns.map((column) =>
    column < table.indexColumns ? { align: "left" } : isNumericDtype(table.dtypes[column]) ? { align: "right" } : { align: "left", is_wrapped: true },
  );
  const block: TableBlock = {
    type: "table",
    rows: columns.length ? [header, ...rows].map((row) => row.map(cell)) : [[cell("(no columns)")]],
    ...(columns.length ? { column_settings: settings } : {}),
  };
  const note = tableNote(table, { rows: rows.length, dataColumns: dataColumnsShown(table, columns), cellsCut }, options.csvName);
  return note ? { block, note } : { block };
}
