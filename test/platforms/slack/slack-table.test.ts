import type { KnownBlock, TableBlock } from "@slack/web-api";
import { describe, expect, test } from "vitest";
import type { TableValue } from "../../../src/core/execution-result.js";
import {
  EMPTY_CELL,
  SLACK_TABLE_MAX_CHARS,
  SLACK_TABLE_MAX_COLUMNS,
  SLACK_TABLE_MAX_ROWS,
  TABLE_CELL_CHARS,
  TABLE_COLUMNS_SHOWN,
  TABLE_ROWS_SHOWN,
  tableBlock,
} from "../../../src/platforms/slack/slack-table.js";

/** One 10,000-character value, shared: a fresh string per cell would cost 300 MB. */
const HUGE_CELL = "x".repeat(10_000);

function frame(rows: number, columns: number, cell: (row: number, column: number) => string, dtype = "int64"): TableValue {
  return {
    kind: "dataframe",
    columns: ["", ...Array.from({ length: columns }, (_, i) => `col${i}`)],
    indexColumns: 1,
    dtypes: ["index", ...Array.from({ length: columns }, () => dtype)],
    rows: Array.from({ length: rows }, (_, r) => [String(r), ...Array.from({ length: columns }, (_, c) => cell(r, c))]),
    totalRows: rows,
    totalColumns: columns,
    csv: { path: ".codebot/tables/table-2.csv", bytes: 1000, complete: true },
  };
}

/** The table block's documented shape: rows ≤ 100 of ≤ 20 raw_text cells (text ≥ 1 character), column_settings ≤ 20. */
function checkShape(block: KnownBlock): string[][] {
  expect(block.type).toBe("table");
  const table = block as TableBlock;
  expect(Object.keys(table).every((key) => ["type", "block_id", "rows", "column_settings"].includes(key))).toBe(true);
  expect(table.rows.length).toBeGreaterThan(0);
  expect(table.rows.length).toBeLessThanOrEqual(SLACK_TABLE_MAX_ROWS);
  const width = table.rows[0]?.length ?? 0;
  const texts = table.rows.map((row) => {
    expect(row.length).toBe(width);
    expect(row.length).toBeLessThanOrEqual(SLACK_TABLE_MAX_COLUMNS);
    return row.map((cell) => {
      expect(Object.keys(cell).sort()).toEqual(["text", "type"]);
      expect(cell.type).toBe("raw_text");
      const { text } = cell as { text: string };
      expect(text.length).toBeGreaterThanOrEqual(1);
      return text;
    });
  });
  for (const setting of table.column_settings ?? []) {
    expect(Object.keys(setting).every((key) => ["align", "is_wrapped"].includes(key))).toBe(true);
    expect(["left", "center", "right"]).toContain(setting.align);
  }
  expect((table.column_settings ?? []).length).toBeLessThanOrEqual(SLACK_TABLE_MAX_COLUMNS);
  return texts;
}

describe("DataFrames as Slack table blocks", () => {
  test("a small table: header first, numbers right-aligned, text wrapped, nothing left out", () => {
    const table: TableValue = {
      kind: "dataframe",
      columns: ["city", "name", "total"],
      indexColumns: 1,
      dtypes: ["index", "object", "float64"],
      rows: [
        ["Oslo", "Kari", "1.5"],
        ["東京", "", "20.25"],
      ],
      totalRows: 2,
      totalColumns: 2,
    };
    const { block, note } = tableBlock(table);
    expect(block).toEqual({
      type: "table",
      rows: [
        [{ type: "raw_text", text: "city" }, { type: "raw_text", text: "name" }, { type: "raw_text", text: "total" }],
        [{ type: "raw_text", text: "Oslo" }, { type: "raw_text", text: "Kari" }, { type: "raw_text", text: "1.5" }],
        [{ type: "raw_text", text: "東京" }, { type: "raw_text", text: EMPTY_CELL }, { type: "raw_text", text: "20.25" }],
      ],
      column_settings: [{ align: "left" }, { align: "left", is_wrapped: true }, { align: "right" }],
    });
    expect(note).toBeUndefined();
    checkShape(block);
  });

  test("1,000 × 30: the first rows and columns, index first, and a note", () => {
    const { block, note } = tableBlock(frame(1000, 30, (r, c) => `${r * c}`), { csvName: "table-2.csv" });
    const rows = checkShape(block);
    expect(rows).toHaveLength(TABLE_ROWS_SHOWN + 1);
    expect(rows[0]).toEqual([EMPTY_CELL, ...Array.from({ length: TABLE_COLUMNS_SHOWN - 1 }, (_, i) => `col${i}`)]);
    expect(rows[3]?.[0]).toBe("2");
    expect(note).toBe("Showing 20 of 1,000 rows and 9 of 30 columns; the full data is in table-2.csv");
  });

  test("10,000-character cells are cut, and rows stop before the table passes its character cap", () => {
    const { block, note } = tableBlock(frame(1000, 30, () => HUGE_CELL, "object"), { csvName: "table-2.csv" });
    const rows = checkShape(block);
    const chars = rows.flat().reduce((sum, text) => sum + text.length, 0);
    expect(chars).toBeLessThanOrEqual(SLACK_TABLE_MAX_CHARS);
    for (const text of rows.flat()) expect(text.length).toBeLessThanOrEqual(TABLE_CELL_CHARS);
    expect(rows[1]?.[1]).toBe(`${"x".repeat(TABLE_CELL_CHARS - 1)}…`);
    expect(rows.length - 1).toBe(Math.floor((SLACK_TABLE_MAX_CHARS - rows[0]!.join("").length) / (rows[1]!.join("").length)));
    expect(note).toBe(`Showing ${rows.length - 1} of 1,000 rows and 9 of 30 columns (long values are cut); the full data is in table-2.csv`);
  });

  test("hostile cells become one clean line each, with no mention and no token", () => {
    const hostile = ["```", "@everyone", "<!channel>", "a\u202eexe.txt", "line1\nline2\tcol", "<@U123> <https://evil.example|bank>", "\u0007\u0000", ""];
    const table: TableValue = {
      kind: "series",
      columns: ["", "<!here>"],
      indexColumns: 1,
      dtypes: ["index", "object"],
      rows: hostile.map((value, i) => [String(i), value]),
      totalRows: hostile.length,
      totalColumns: 1,
    };
    const rows = checkShape(tableBlock(table).block);
    expect(rows.map((row) => row[1])).toEqual([
      "@\u200bhere",
      "```",
      "@\u200beveryone",
      "@\u200bchannel",
      "aexe.txt",
      "line1 line2 col",
      "<\u200b@U123> <\u200bhttps://evil.example|bank>",
      EMPTY_CELL,
      EMPTY_CELL,
    ]);
  });

  test("a deep index still leaves a data column, within the column cap", () => {
    const table: TableValue = {
      kind: "dataframe",
      columns: [...Array.from({ length: 12 }, (_, i) => `level${i}`), "value"],
      indexColumns: 12,
      dtypes: [...Array.from({ length: 12 }, () => "index"), "int64"],
      rows: [Array.from({ length: 13 }, (_, i) => String(i))],
      totalRows: 1,
      totalColumns: 1,
    };
    const { block, note } = tableBlock(table);
    const rows = checkShape(block);
    expect(rows[0]).toHaveLength(TABLE_COLUMNS_SHOWN);
    expect(rows[0]?.at(-1)).toBe("value");
    expect(note).toBeUndefined();
  });

  test("a CSV cut at the size cap says so", () => {
    const table = { ...frame(50, 2, () => "1"), csv: { path: "t.csv", bytes: 10, complete: false } };
    expect(tableBlock(table, { csvName: "table-1.csv" }).note).toBe("Showing 20 of 50 rows; table-1.csv has the data up to the size limit");
  });

  test("a table without columns is still a valid block", () => {
    const table: TableValue = { kind: "dataframe", columns: [], indexColumns: 0, dtypes: [], rows: [], totalRows: 0, totalColumns: 0 };
    expect(checkShape(tableBlock(table).block)).toEqual([["(no columns)"]]);
  });
});
