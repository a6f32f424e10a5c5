import { z } from "zod";
import type { SourceCallRecord } from "./source-call.js";

/** What one execution in a sandbox produced: the notebook's view of a cell. */
export const executionStatusSchema = z.enum(["ok", "error", "timeout", "oom", "killed", "cancelled"]);
export type ExecutionStatus = z.infer<typeof executionStatusSchema>;

export const executionErrorSchema = z.object({
  name: z.string(),
  value: z.string(),
  traceback: z.string(),
});
export type ExecutionError = z.infer<typeof executionErrorSchema>;

/** A file under /mnt/data that the execution created or changed. */
export const sandboxFileSchema = z.object({
  path: z.string(),
  size: z.number().int().nonnegative(),
  mime: z.string(),
});
export type SandboxFile = z.infer<typeof sandboxFileSchema>;

/** An image the code displayed (a matplotlib figure, a PIL image), base64-encoded. */
export const executionImageSchema = z.object({
  mime: z.string(),
  data: z.string(),
  /**
   * The figure's title (suptitle, else the first axes' title) as one line of at most 200 characters,
   * when it has one: the file is named after it. Written by the sandbox's code, so hostile. PIL images have none.
   */
  title: z.string().optional(),
});

/**
 * A pandas DataFrame or Series that was a cell's last value, as structured data for people (the
 * model still reads the text form in `result`): the first rows and columns, each cell's display text.
 * At most MAX_TABLE_ROWS (50) rows and MAX_TABLE_COLUMNS (20) columns, index columns included, each
 * text at most 200 characters (src/sandbox/sandbox-limits.ts; the host's checks: runner-protocol.ts).
 * Every text is the sandbox's: hostile (mentions, markup), for the platform to escape.
 */
export const tableValueSchema = z.object({
  kind: z.enum(["dataframe", "series"]),
  /**
   * Column headers: the index's level names first (indexColumns of them; an unnamed level is ""),
   * then the data's columns (a MultiIndex column's levels joined with " / "; an unnamed Series'
   * column is "value"). A default RangeIndex (0, 1, 2... unnamed) is no column: indexColumns is 0.
   */
  columns: z.array(z.string()),
  indexColumns: z.number().int().nonnegative(),
  /** One per column shown, as pandas names it ("int64", "object"); the index's are "index". */
  dtypes: z.array(z.string()),
  /** The first rows, each as the display text of its cells (index values first), as pandas shows them ("NaN", "1.500000"). */
  rows: z.array(z.array(z.string())),
  /** The whole value's shape: rows and data columns, shown or not. */
  totalRows: z.number().int().nonnegative(),
  totalColumns: z.number().int().nonnegative(),
  /**
   * The full data as CSV (to_csv, the index included unless a default RangeIndex) in the session's
   * hidden folder: a path relative to /mnt/data, ".codebot/tables/<name>.csv", never listed as the
   * user's file nor saved into workspaces; the newest ten are kept. complete is false when it was
   * cut (at a line end) at its size cap, 8 MiB. Absent when it could not be written.
   */
  csv: z.object({ path: z.string(), bytes: z.number().int().nonnegative(), complete: z.boolean() }).optional(),
});
export type TableValue = z.infer<typeof tableValueSchema>;
export type ExecutionImage = z.infer<typeof executionImageSchema>;

export const executionResultSchema = z.object({
  status: executionStatusSchema,
  stdout: z.string(),
  stderr: z.string(),
  result: z.string().optional(),
  /** The last value as a table, when it was a DataFrame or Series. Absent from older images. */
  table: tableValueSchema.optional(),
  error: executionErrorSchema.optional(),
  files: z.array(sandboxFileSchema),
  images: z.array(executionImageSchema),
  durationMs: z.number().nonnegative(),
  /** True when the session's Python process was restarted and its variables are gone. */
  stateLost: z.boolean(),
  /** Plain-language notes for people: truncation, restarts, a full disk. */
  notes: z.array(z.string()),
  /** True for the first execution of a new session (the thread's earlier one, if any, had ended). */
  freshSession: z.boolean().optional(),
  /**
   * What the execution wrote and deleted under /mnt/data, as paths relative to it, for checkpoints
   * (the runner's own .codebot folder never appears). complete is false when the lists were cut or
   * the sandbox could not list everything: then copy the whole folder. Absent from older images.
   */
  changes: z.object({ written: z.array(z.string()), deleted: z.array(z.string()), complete: z.boolean() }).optional(),
});
/**
 * An execution's result; calls: the data-source calls its code made (codebot.sql, fetch), added
 * by the worker that answered them, never taken from the sandbox's answer.
 */
export type ExecutionResult = z.infer<typeof executionResultSchema> & { calls?: SourceCallRecord[] };
