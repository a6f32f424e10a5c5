import { describe, expect, test } from "vitest";
import type { TableValue } from "../../../src/core/execution-result.js";
import { displayWidth } from "../../../src/core/table-text.js";
import { DISCORD_CELL_WIDTH, DISCORD_TABLE_WIDTH, monospaceTable } from "../../../src/platforms/discord/discord-table.js";

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
  };
}

/** The lines inside the code block, after checking that it is one well-formed block. */
function body(text: string): string[] {
  expect(text.startsWith("```\n")).toBe(true);
  expect(text.endsWith("\n```")).toBe(true);
  const inner = text.slice(4, -4);
  expect(inner).not.toContain("`");
  return inner.split("\n");
}

describe("DataFrames as Discord monospace tables", () => {
  test("a small table: aligned, numbers right-aligned, a header rule, nothing left out", () => {
    const table: TableValue = {
      kind: "dataframe",
      columns: ["city", "name", "total"],
      indexColumns: 1,
      dtypes: ["index", "object", "float64"],
      rows: [
        ["Oslo", "Kari", "1.5"],
        ["Trondheim", "", "20.25"],
      ],
      totalRows: 2,
      totalColumns: 2,
    };
    expect(monospaceTable(table, 2000)).toEqual({
      text: ["```", "city       name  total", "---------  ----  -----", "Oslo       Kari    1.5", "Trondheim        20.25", "```"].join("\n"),
    });
  });

  test("CJK and emoji take two columns, so every line has the same display width", () => {
    const table: TableValue = {
      kind: "dataframe",
      columns: ["", "都市", "人口", "note"],
      indexColumns: 1,
      dtypes: ["index", "object", "int64", "object"],
      rows: [
        ["0", "東京", "13960000", "首都 🗼"],
        ["1", "Oslo", "709000", "fjord"],
        ["2", "서울", "9700000", "e\u0301"],
      ],
      totalRows: 3,
      totalColumns: 3,
    };
    const lines = body(monospaceTable(table, 2000).text);
    expect(new Set(lines.map(displayWidth)).size).toBe(1);
    // Each column starts at the same display column on every line: find the rule's gaps.
    const rule = lines[1] ?? "";
    const starts = [...rule.matchAll(/-+/g)].map((match) => match.index ?? 0);
    for (const line of lines) {
      for (const start of starts.slice(1)) {
        const before = [...line].reduce<{ width: number; text: string }>(
          (acc, char) => (acc.width < start ? { width: acc.width + displayWidth(char), text: acc.text + char } : acc),
          { width: 0, text: "" },
        );
        expect(before.width).toBe(start);
        expect(before.text.endsWith("  ")).toBe(true);
      }
    }
    expect(lines[2]).toBe("0  東京  13960000  首都 🗼");
  });

  test.each([2000, 700, 120])("1,000 × 30 with 10,000-character cells fits %i characters", (maxChars) => {
    const { text, note } = monospaceTable(frame(1000, 30, () => HUGE_CELL, "object"), maxChars, { csvName: "table-2.csv" });
    expect(text.length).toBeLessThanOrEqual(maxChars);
    const lines = body(text);
    for (const line of lines) expect(displayWidth(line)).toBeLessThanOrEqual(DISCORD_TABLE_WIDTH);
    const cells = lines[2]?.split(/\s{2,}/) ?? [];
    expect(cells[1]).toBe(`${"x".repeat(DISCORD_CELL_WIDTH - 1)}…`);
    const rows = lines.length - 2;
    const columns = cells.length - 1;
    expect(note).toBe(
      `Showing ${rows} of 1,000 rows and ${columns} of 30 columns (long values are cut); the full data is in table-2.csv`,
    );
  });

  test("a narrow table shows many rows, and only as many as fit", () => {
    const { text, note } = monospaceTable(frame(1000, 1, (r) => String(r * 7)), 300);
    expect(text.length).toBeLessThanOrEqual(300);
    const lines = body(text);
    expect(lines.length).toBeGreaterThan(20);
    expect(lines[2]).toBe("0      0");
    expect(note).toBe(`Showing ${lines.length - 2} of 1,000 rows`);
  });

  test("hostile cells cannot close the block, ping, reorder text or break lines", () => {
    const hostile = ["```", "@everyone", "<@123> <@&456>", "a\u202eexe.txt", "line1\nline2\tcol", "\u0007\u0000x", "`code`"];
    const table: TableValue = {
      kind: "series",
      columns: ["", "@here"],
      indexColumns: 1,
      dtypes: ["index", "object"],
      rows: hostile.map((value, i) => [String(i), value]),
      totalRows: hostile.length,
      totalColumns: 1,
    };
    const lines = body(monospaceTable(table, 2000).text);
    expect(lines).toHaveLength(hostile.length + 2);
    expect(lines.map((line) => line.slice(3).trimEnd())).toEqual([
      "@\u200bhere",
      "-".repeat(15),
      "ˋˋˋ",
      "@\u200beveryone",
      "<@\u200b123> <@\u200b&456>",
      "aexe.txt",
      "line1 line2 col",
      "x",
      "ˋcodeˋ",
    ]);
  });

  test("with no room even for the header, nothing is shown and the note says so", () => {
    expect(monospaceTable(frame(5, 2, () => "1"), 10)).toEqual({ text: "", note: "Showing 0 of 5 rows and 0 of 2 columns" });
  });
});
