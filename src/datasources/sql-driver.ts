import type { CsvWriter } from "./csv-writer.js";
import type { ResultColumn, TableInfo } from "./data-sources.js";
import { SourceError } from "./source-error.js";

/** One SQL database behind the port (postgres-source.ts, mysql-source.ts): a pool of this worker's connections. */
export interface SqlDriver {
  /** Runs one statement read-only, its rows into writer until cut says stop; SourceError otherwise. */
  run(statement: SqlStatement, writer: CsvWriter, cut: RowCut): Promise<SqlOutcome>;
  /** The tables and columns the role can read (at most MAX_INTROSPECTED_COLUMNS columns). */
  introspect(timeoutMs: number): Promise<TableInfo[]>;
  close(): Promise<void>;
}

export interface SqlStatement {
  text: string;
  params: Array<string | number | boolean | null>;
  /** The statement's time, set in the database (and cancelled there past it). */
  timeoutMs: number;
  /** Aborted: the query is cancelled in the database at once. */
  signal: AbortSignal;
}

export interface SqlOutcome {
  columns: ResultColumn[];
  truncated: boolean;
  cutBy?: "max_rows" | "max_bytes";
}

/** Columns read in one introspection, at most (the prompt shows a bounded summary of them). */
export const MAX_INTROSPECTED_COLUMNS = 20_000;
/** A result's columns at most (PostgreSQL's own limit is 1,664). */
export const MAX_RESULT_COLUMNS = 2000;

/** Where a result is cut: max_rows (the source's, or the caller's if smaller), max_bytes; strict refuses instead. */
export class RowCut {
  cutBy: "max_rows" | "max_bytes" | undefined;

  constructor(
    readonly maxRows: number,
    readonly strict: boolean,
    private readonly source: string,
  ) {}

  /** Adds one row; false when the result is cut here (the row is not kept). Throws too-many-rows when strict. */
  add(writer: CsvWriter, fields: string[]): boolean {
    if (writer.rows >= this.maxRows) return this.cut("max_rows", `${this.source} returned more than ${this.maxRows.toLocaleString("en-US")} rows`);
    if (!writer.row(fields)) return this.cut("max_bytes", `${this.source}'s result is larger than its max_bytes`);
    return true;
  }

  private cut(by: "max_rows" | "max_bytes", what: string): false {
    if (this.strict) throw new SourceError("too-many-rows", `${what} (allow_truncated=False). Aggregate or filter in SQL, or allow a cut result.`);
    this.cutBy = by;
    return false;
  }
}

/** A column list as the session takes it: at most MAX_RESULT_COLUMNS. */
export function checkColumns(columns: ResultColumn[]): ResultColumn[] {
  if (columns.length > MAX_RESULT_COLUMNS) throw new SourceError("query-failed", `The result has ${columns.length} columns; at most ${MAX_RESULT_COLUMNS} are read.`);
  return columns;
}
