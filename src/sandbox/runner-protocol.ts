import { z } from "zod";
import { executionResultSchema, sandboxFileSchema, tableValueSchema } from "../core/execution-result.js";
import { MAX_IMAGE_TITLE, MAX_TABLE_COLUMNS, MAX_TABLE_CSV_PATH, MAX_TABLE_ROWS, MAX_TABLE_TEXT, type SandboxLimits } from "./sandbox-limits.js";

/**
 * The framed protocol spoken with the supervisor inside a sandbox (sandbox-image/runner):
 * one JSON object per line on the sandbox's stdin and stdout, each answer naming its request id.
 */
export type RunnerRequest =
  | { id: string; op: "ping" }
  | { id: string; op: "files" }
  | { id: string; op: "claim"; session: string }
  /** Pickles the session's variables to /mnt/data/.codebot/state.pkl, unless they are over maxBytes. */
  | { id: string; op: "snapshot"; maxBytes: number }
  /** Loads the variables of /mnt/data/.codebot/state.pkl into the session (and deletes the file). */
  | { id: string; op: "restore" }
  /** A chunk of a regular file of /mnt/data (links are never followed), base64 in the answer. */
  | { id: string; op: "read"; path: string; offset: number; length: number; maxBytes: number }
  /** A chunk of a file put into /mnt/data, in order, as the sandbox's user, never through a link (backends without an archive API). */
  | { id: string; op: "write"; path: string; offset: number; size: number; data: string; mode: number; dirMode: number; mtimeMs?: number }
  /** A page of the listing of /mnt/data (regular files, .codebot left out), from the start-th file on. */
  | { id: string; op: "tree"; start: number; maxEntries: number }
  /** The size and modification time of each named file (null: no regular file there). */
  | { id: string; op: "stat"; paths: string[] }
  /** Small files whole, in order, while they fit maxBytes together (base64 in the answer). */
  | { id: string; op: "readMany"; paths: string[]; maxBytes: number; maxFileBytes: number }
  | {
      id: string;
      op: "exec";
      code: string;
      timeoutMs: number;
      maxOutputBytes: number;
      maxResultBytes: number;
      maxImages: number;
      maxImageBytes: number;
      maxFiles: number;
    };

export type RunnerInterrupt = { op: "interrupt"; target: string };

/**
 * A Python version as platform.python_version() says it ("3.13.5", "3.14.0rc1", "3.15.0a2+"):
 * the sandbox names it, so it is held to this pattern (and its length) before the model is told it.
 */
export const PYTHON_VERSION = /^\d{1,2}\.\d{1,3}\.\d{1,3}(?:(?:a|b|rc)\d{1,3})?\+?$/;

/** Alive; "python": the image's Python version (absent from older images; anything off the pattern is dropped). */
export const pongSchema = z.object({
  id: z.string(),
  op: z.literal("pong"),
  kernelPid: z.number(),
  python: z.string().max(20).regex(PYTHON_VERSION).optional().catch(undefined),
});
export const claimAnswerSchema = z.object({ id: z.string(), op: z.literal("claim"), granted: z.boolean() });
export const filesAnswerSchema = z.object({ id: z.string(), op: z.literal("files"), files: z.array(sandboxFileSchema) });
export const execAnswerSchema = executionResultSchema.extend({ id: z.string(), op: z.literal("result") });

const PNG_BASE64_PREFIX = "iVBORw0KGgo"; // base64 of the PNG signature

/** Where the runner writes a table's CSV: its hidden folder, a plain file name (no folder, no ".."). */
export const TABLE_CSV_PATH = /^\.codebot\/tables\/[A-Za-z0-9][A-Za-z0-9._-]{0,99}\.csv$/;

const tableText = z.string().max(MAX_TABLE_TEXT);
const tableTexts = z.array(tableText).max(MAX_TABLE_COLUMNS);

/**
 * A table as the sandbox sends it, bounded (rows, columns, each text) and consistent: a dtype and,
 * in each row, a cell per column, the index columns among them. Its CSV can only be one of the
 * runner's files: the host reads it (links never followed) and attaches it to the answer.
 */
export const boundedTableSchema = tableValueSchema
  .extend({
    columns: tableTexts,
    dtypes: tableTexts,
    rows: z.array(tableTexts).max(MAX_TABLE_ROWS),
    csv: z
      .object({
        path: z
          .string()
          .max(MAX_TABLE_CSV_PATH)
          .regex(TABLE_CSV_PATH)
          .refine((path) => !path.split("/").includes(".."), "a path out of the folder"),
        bytes: z.number().int().nonnegative(),
        complete: z.boolean(),
      })
      .optional(),
  })
  .refine(
    (table) => table.dtypes.length === table.columns.length && table.indexColumns <= table.columns.length && table.rows.every((row) => row.length === table.columns.length),
    "a table's rows, columns and dtypes must match",
  );

/**
 * An execution's answer, checked again on the host against the session's limits (the sandbox
 * enforces them too): text within its caps, at most maxImages PNG images (titles bounded), at most
 * maxFiles files, a bounded table.
 */
export function boundedExecAnswerSchema(limits: SandboxLimits) {
  const output = z.string().max(limits.maxOutputBytes + 200);
  const value = z.string().max(limits.maxResultBytes + 400);
  return execAnswerSchema.extend({
    stdout: output,
    stderr: output,
    result: value.optional(),
    error: z.object({ name: z.string().max(400), value, traceback: value }).optional(),
    images: z
      .array(
        z.object({
          mime: z.literal("image/png"),
          data: z.string().max(Math.ceil((limits.maxImageBytes * 4) / 3) + 4).startsWith(PNG_BASE64_PREFIX),
          title: z.string().max(MAX_IMAGE_TITLE).optional(),
        }),
      )
      .max(limits.maxImages),
    files: z.array(sandboxFileSchema.extend({ path: z.string().max(1024), mime: z.string().max(200) })).max(limits.maxFilesListed),
    notes: z.array(z.string().max(1000)).max(20),
    table: boundedTableSchema.optional(),
    changes: boundedChangesSchema.optional(),
  });
}
/** Paths per list of an execution's changes, and characters per path (as the supervisor caps them). */
export const MAX_CHANGED_PATHS = 10_000;
const MAX_CHANGED_PATH_CHARS = 1024;

/** An execution's changes to /mnt/data (relative paths), bounded; sandbox images older than the field don't send it. */
export const boundedChangesSchema = z.object({
  written: z.array(z.string().max(MAX_CHANGED_PATH_CHARS)).max(MAX_CHANGED_PATHS),
  deleted: z.array(z.string().max(MAX_CHANGED_PATH_CHARS)).max(MAX_CHANGED_PATHS),
  complete: z.boolean(),
});

/** Entries per list of a snapshot's or a restore's answer, and characters per name or reason. */
export const MAX_NAMESPACE_ENTRIES = 200;
export const MAX_NAMESPACE_TEXT = 200;
const namespaceText = z.string().max(MAX_NAMESPACE_TEXT);
const byteCount = z.number().int().nonnegative();
const moreCount = byteCount.optional();
const namedReason = z.object({ name: namespaceText, reason: namespaceText });

/**
 * What a snapshot of the session's variables did: the variables saved (their names, clipped, at
 * most 200, moreSaved beyond), those skipped with why (an open file, a socket...), the file's size
 * and the largest variables. tooLarge: the snapshot would be over maxBytes, so nothing was written.
 */
export const snapshotAnswerSchema = z.object({
  id: z.string(),
  op: z.literal("snapshot"),
  saved: z.array(namespaceText).max(MAX_NAMESPACE_ENTRIES),
  moreSaved: moreCount,
  skipped: z.array(namedReason).max(MAX_NAMESPACE_ENTRIES),
  moreSkipped: moreCount,
  bytes: byteCount,
  largest: z.array(z.object({ name: namespaceText, bytes: byteCount })).max(5),
  tooLarge: z.boolean(),
});

/** What a restore did: the variables loaded, and those that failed with why (a class whose module is gone). */
export const restoreAnswerSchema = z.object({
  id: z.string(),
  op: z.literal("restore"),
  restored: z.array(namespaceText).max(MAX_NAMESPACE_ENTRIES),
  moreRestored: moreCount,
  failed: z.array(namedReason).max(MAX_NAMESPACE_ENTRIES),
  moreFailed: moreCount,
});


/** How far a file being written has come (done: it has its size, mode and time), or why it can't be. */
export const writeAnswerSchema = z.object({
  id: z.string(),
  op: z.literal("write"),
  problem: z.enum(["invalid", "out-of-order", "is-directory", "too-large", "no-space", "failed"]).optional(),
  written: z.number().int().nonnegative().optional(),
  done: z.boolean().optional(),
});

/** One chunk of a file, or why it can't be read. */
export function readAnswerSchema(chunkBytes: number) {
  return z.object({
    id: z.string(),
    op: z.literal("read"),
    problem: z.enum(["not-found", "not-regular", "too-large"]).optional(),
    size: z.number().int().nonnegative().optional(),
    offset: z.number().int().nonnegative().optional(),
    data: z.string().max(Math.ceil(chunkBytes / 3) * 4).optional(),
    eof: z.boolean().optional(),
  });
}

/** Files per page of a listing, and paths per stat or readMany request (as the supervisor caps them: data_tree.py). */
export const MAX_TREE_PAGE = 10_000;
export const MAX_NAMED_PATHS = 2000;
const MAX_LISTED_PATH = 1024;

const fileFacts = z.object({ size: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER), mtimeMs: z.number().int().safe() });

/** A page of the listing: each file's path (relative to /mnt/data), apparent size and mtime; next: where the next page starts. */
export const treeAnswerSchema = z.object({
  id: z.string(),
  op: z.literal("tree"),
  files: z.array(fileFacts.extend({ path: z.string().min(1).max(MAX_LISTED_PATH) })).max(MAX_TREE_PAGE),
  unnamed: z.number().int().nonnegative().max(MAX_TREE_PAGE),
  next: z.number().int().nonnegative().nullable(),
});

/** The facts of each named file, in the order asked (null: none there). */
export function statAnswerSchema(count: number) {
  return z.object({ id: z.string(), op: z.literal("stat"), files: z.array(fileFacts.nullable()).length(count) });
}

/** The files read, in the order asked, as many as fit (null: not a regular file, or over maxFileBytes). */
export function readManyAnswerSchema(count: number, maxBytes: number) {
  const data = z.string().max(Math.ceil(maxBytes / 3) * 4);
  return z.object({ id: z.string(), op: z.literal("readMany"), files: z.array(fileFacts.extend({ data }).nullable()).max(count) });
}

export const runnerErrorSchema = z.object({ id: z.string().nullable(), op: z.literal("error"), message: z.string() });

/** Any line the supervisor writes to stdout: at least an id to route it by. */
export const runnerAnswerSchema = z.object({ id: z.string(), op: z.string() }).passthrough();
