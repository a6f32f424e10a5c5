/**
 * A data-source call an execution made (codebot.sql, codebot.fetch), as the answer shows it in its
 * step and the exported notebook keeps it. Recorded by the worker, never sent by the sandbox.
 */
export interface SourceCallRecord {
  kind: "sql" | "fetch";
  source: string;
  /** The statement (SQL) or "METHOD path" (HTTP), as the code wrote it: show it as text only. */
  text: string;
  /** Rows returned (SQL). */
  rows?: number;
  bytes: number;
  ms: number;
  /** "ok", "truncated", or the failure's code (read-only, timeout...). */
  outcome: string;
}
