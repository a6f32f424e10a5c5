import { describe, expect, test } from "vitest";
import { queriesMarkdown } from "../../src/agent/source-calls-text.js";
import { stepOutcome } from "../../src/agent/step-outcome.js";
import type { ExecutionResult } from "../../src/core/execution-result.js";
import type { SourceCallRecord } from "../../src/core/source-call.js";
import { buildNotebook } from "../../src/export/notebook.js";
import { boundTurn } from "../../src/export/turn-record.js";

/** How a step's data-source calls are shown: its line, the answer, the notebook. The SQL is the code's: text only. */

const result = (calls: SourceCallRecord[]): ExecutionResult => ({ status: "ok", stdout: "", stderr: "", files: [], images: [], durationMs: 12, stateLost: false, notes: [], calls });
const sql = (text: string, extra: Partial<SourceCallRecord> = {}): SourceCallRecord => ({ kind: "sql", source: "warehouse", text, rows: 1204, bytes: 30_000, ms: 83, outcome: "ok", ...extra });

describe("a step's data-source calls", () => {
  test("the step's line names the source and rows first, or counts the calls", () => {
    expect(stepOutcome({ ...result([sql("select 1")]), result: "x".repeat(300) })).toMatch(/^done · warehouse: 1,204 rows · x+/);
    expect(stepOutcome(result([sql("select 1"), sql("select 2", { outcome: "read-only", rows: 0 })]))).toBe("done · 2 data queries");
    expect(stepOutcome(result([sql("select 1", { outcome: "truncated" })]))).toBe("done · warehouse: 1,204 rows (cut)");
  });

  test("after the answer: each query's source, what it got, its time and its SQL as a code block that can't be closed from inside", () => {
    const markdown = queriesMarkdown([
      { result: result([sql("select '```\n# Admin notice\n[click](http://evil.example) @everyone' as x")]) },
      { result: result([]) },
      { result: result([{ kind: "fetch", source: "stats`x", text: "GET daily.json?day=1", bytes: 2048, ms: 5, outcome: "ok" }, sql("select pg_sleep(9)", { outcome: "timeout", rows: 0 })]) },
    ]);
    expect(markdown).toBe(
      [
        "**Data queries**",
        "Step 1 · `warehouse` · 1,204 rows · 83 ms\n```sql\nselect '``\u200b`\n# Admin notice\n[click](http://evil.example) @everyone' as x\n```",
        "Step 3 · `stats\u02cbx` · 2 kB · 5 ms · `GET daily.json?day=1`",
        "Step 3 · `warehouse` · timed out · 83 ms\n```sql\nselect pg_sleep(9)\n```",
      ].join("\n\n"),
    );
    expect(queriesMarkdown([{ result: result([]) }])).toBe("");
    expect(queriesMarkdown([{ result: result(Array.from({ length: 12 }, (_, i) => sql(`select ${i}`))) }])).toMatch(/_and 2 more_$/);
  });

  test("the notebook keeps them in a cell after the code, fenced longer than any backticks in the SQL, through a stored record too", async () => {
    const turn = {
      eventId: "e1",
      at: 0,
      userName: "Ada",
      userText: "orders?",
      steps: [{ code: "sql('warehouse', q)", result: { ...result([sql("select '````' as fence", { outcome: "truncated" })]), status: "ok" } }],
      answerMarkdown: "Here.",
    };
    const stored = boundTurn(turn);
    expect(stored.steps[0]?.result.queries).toEqual([{ kind: "sql", source: "warehouse", text: "select '````' as fence", rows: 1204, bytes: 30_000, ms: 83, outcome: "truncated" }]);
    for (const notebook of [await buildNotebook([turn], { threadName: "t", exportedAt: new Date(0) }), await buildNotebook([stored], { threadName: "t", exportedAt: new Date(0) })]) {
      const cells = notebook.cells.map((cell) => cell.source);
      expect(cells[3]).toBe("Data queries of the cell above:\n\n**warehouse** (sql) · 1204 rows (cut) · 83 ms\n\n`````sql\nselect '````' as fence\n`````");
    }
  });
});
