import type { ExecutionResult, TableValue } from "../../src/core/execution-result.js";

/** An exception message that would be a heading, a phishing link and bold text if rendered as markdown. */
export const PHISHING = "# Admin notice\n[Re-enter your password](http://evil.example/login) **urgent**";

/** A DataFrame's table whose every text (headers, dtypes, cells) carries the platform's mass mentions. */
export function hostileTable(pings: string): TableValue {
  return {
    kind: "dataframe",
    columns: [pings, `${PHISHING} ${pings}`],
    indexColumns: 1,
    dtypes: ["index", pings],
    rows: [
      [pings, `${PHISHING} ${pings}`],
      [`| ${pings} |`, "```"],
    ],
    totalRows: 2,
    totalColumns: 1,
    csv: { path: ".codebot/tables/cell-1-0000.csv", bytes: 10, complete: true },
  };
}

/** An execution whose every sandbox-controlled field carries the platform's mass mentions. */
export function hostileResult(pings: string): ExecutionResult {
  return {
    status: "error",
    stdout: `${pings}\n`,
    stderr: "",
    result: pings,
    table: hostileTable(pings),
    error: { name: "ValueError", value: `${PHISHING} ${pings}`, traceback: `Traceback (most recent call last):\nValueError: ${PHISHING} ${pings}\n` },
    files: [],
    images: [],
    durationMs: 3,
    stateLost: false,
    notes: [pings],
  };
}

/** A PNG's first bytes, base64: enough for an image the host's checks take for one. */
export const PNG_BASE64 = Buffer.from("89504e470d0a1a0a0000000d49484452", "hex").toString("base64");

/**
 * A well-formed answer of a sandbox's supervisor to execution id, with a table, to forge from: each
 * override is what a sandbox that broke out of its runner might send instead.
 */
export function forgedExecAnswer(id: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    op: "result",
    status: "ok",
    stdout: "",
    stderr: "",
    result: "   a\n0  1",
    table: { kind: "dataframe", columns: ["a"], indexColumns: 0, dtypes: ["int64"], rows: [["1"]], totalRows: 1, totalColumns: 1, csv: { path: ".codebot/tables/cell-1-00ff.csv", bytes: 4, complete: true } },
    files: [],
    images: [{ mime: "image/png", data: PNG_BASE64, title: "Sales" }],
    durationMs: 1,
    stateLost: false,
    notes: [],
    changes: { written: [], deleted: [], complete: true },
    ...overrides,
  };
}
