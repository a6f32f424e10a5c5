import { z } from "zod";
import { fencedPython } from "../core/markdown/fenced-code.js";
import type { ChatRequest } from "../core/chat-request.js";
import { executionErrorSchema, type ExecutionResult } from "../core/execution-result.js";
import { boundedText } from "./bounded-text.js";

/**
 * What one turn of a thread leaves for its export: who asked what, each execution's code and
 * outcome, the answer. Everything but the user's own words comes from the sandbox or the model,
 * so every part is bounded here, once, before it is stored (and again when a notebook is built).
 */
export const EXPORT_BOUNDS = {
  maxStepsPerTurn: 100,
  /** stdout and stderr each, per cell; also the value, the traceback and the code. */
  maxStreamChars: 100_000,
  maxUserTextChars: 10_000,
  maxAnswerChars: 50_000,
  maxNotes: 20,
  maxNoteChars: 1000,
  maxImagesPerStep: 10,
  /** An image's decoded size. */
  maxImageBytes: 2 * 1024 * 1024,
  /** All of a turn's text and images together (images are the first to go when it is full). */
  maxTurnChars: 4 * 1024 * 1024,
  /** Data-source calls kept per cell, and characters of each one's SQL (or HTTP path). */
  maxQueriesPerStep: 20,
  maxQueryChars: 10_000,
} as const;

const IMAGE_MAGIC = { "image/png": "89504e470d0a1a0a", "image/jpeg": "ffd8ff" } as const;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

const recordedImageSchema = z.object({ mime: z.enum(["image/png", "image/jpeg"]), data: z.string() });
export type RecordedImage = z.infer<typeof recordedImageSchema>;

/** A data-source call of the cell (codebot.sql, fetch): its source, SQL or path, what it got. */
const recordedQuerySchema = z.object({
  kind: z.string(),
  source: z.string(),
  text: z.string(),
  rows: z.number().int().nonnegative().optional(),
  bytes: z.number().nonnegative(),
  ms: z.number().nonnegative(),
  outcome: z.string(),
});
export type RecordedQuery = z.infer<typeof recordedQuerySchema>;

export const recordedResultSchema = z.object({
  /** As the sandbox said it ("ok", "error", "timeout"…); a string, so records outlive new statuses. */
  status: z.string(),
  stdout: z.string(),
  stderr: z.string(),
  result: z.string().optional(),
  error: executionErrorSchema.optional(),
  images: z.array(recordedImageSchema),
  notes: z.array(z.string()),
  /** Absent from records older than data sources. */
  queries: z.array(recordedQuerySchema).optional(),
});
export type RecordedResult = z.infer<typeof recordedResultSchema>;

export const threadTurnSchema = z.object({
  /** The request's event id: a turn taken over by a second worker is recorded once. */
  eventId: z.string(),
  at: z.number(),
  userName: z.string(),
  userText: z.string(),
  /** Code the user ran as written (no model): the cell is the question, its outputs the answer. */
  ranAsWritten: z.boolean().default(false),
  steps: z.array(z.object({ code: z.string(), result: recordedResultSchema })),
  answerMarkdown: z.string(),
});
export type ThreadTurn = z.infer<typeof threadTurnSchema>;

/** A turn as it happened, before bounding: results are the sandbox's, images any it claimed. */
export interface ThreadTurnInput {
  eventId: string;
  at: number;
  userName: string;
  userText: string;
  ranAsWritten?: boolean;
  steps: Array<{
    code: string;
    /** calls: as the worker recorded them; queries: as a stored record keeps them (bounded again). */
    result: Pick<ExecutionResult, "stdout" | "stderr" | "result" | "error" | "notes" | "calls"> & { status: string; images: Array<{ mime: string; data: string }>; queries?: RecordedQuery[] };
  }>;
  answerMarkdown: string;
}

/** Characters left for the turn: each text takes what it keeps, up to its own cap. */
class Budget {
  constructor(private left: number) {}

  text(text: string, max: number): string {
    const kept = boundedText(text, Math.max(0, Math.min(max, this.left)));
    this.left -= kept.length;
    return kept;
  }

  take(size: number): boolean {
    if (size > this.left) return false;
    this.left -= size;
    return true;
  }
}

/** A PNG or JPEG the notebook can show: well-formed base64 within the size cap, the bytes it claims to be. */
function keptImage(image: { mime: string; data: string }): RecordedImage | undefined {
  const mime = image.mime.toLowerCase();
  if (mime !== "image/png" && mime !== "image/jpeg") return undefined;
  const data = image.data;
  if (data.length > Math.ceil(EXPORT_BOUNDS.maxImageBytes / 3) * 4 || data.length % 4 !== 0 || !BASE64.test(data)) return undefined;
  if (!Buffer.from(data.slice(0, 16), "base64").toString("hex").startsWith(IMAGE_MAGIC[mime])) return undefined;
  return { mime, data };
}

function boundedResult(result: ThreadTurnInput["steps"][number]["result"], budget: Budget): RecordedResult {
  const max = EXPORT_BOUNDS.maxStreamChars;
  const kept: RecordedResult = {
    status: boundedText(String(result.status), 20),
    stdout: budget.text(result.stdout, max),
    stderr: budget.text(result.stderr, max),
    images: [],
    notes: [],
  };
  if (result.result !== undefined) kept.result = budget.text(result.result, max);
  if (result.error) kept.error = { name: budget.text(result.error.name, 200), value: budget.text(result.error.value, 10_000), traceback: budget.text(result.error.traceback, max) };
  let dropped = 0;
  for (const image of result.images) {
    const valid = kept.images.length < EXPORT_BOUNDS.maxImagesPerStep ? keptImage(image) : undefined;
    if (valid && budget.take(valid.data.length)) kept.images.push(valid);
    else dropped++;
  }
  // The note on dropped images comes first, so bounding a bounded record again changes nothing.
  const notes = dropped ? [`${dropped} image${dropped === 1 ? " was" : "s were"} left out of the export (not a PNG or JPEG, over ${EXPORT_BOUNDS.maxImageBytes / 1048576} MB, or too many).`, ...result.notes] : result.notes;
  kept.notes = notes.slice(0, EXPORT_BOUNDS.maxNotes).map((note) => budget.text(note, EXPORT_BOUNDS.maxNoteChars));
  const queries = (result.calls ?? result.queries ?? []).slice(0, EXPORT_BOUNDS.maxQueriesPerStep);
  if (queries.length) {
    kept.queries = queries.map((query) => ({
      kind: boundedText(String(query.kind), 10),
      source: boundedText(String(query.source), 100),
      text: budget.text(String(query.text), EXPORT_BOUNDS.maxQueryChars),
      ...(query.rows !== undefined ? { rows: Math.max(0, Math.trunc(Number(query.rows) || 0)) } : {}),
      bytes: Math.max(0, Number(query.bytes) || 0),
      ms: Math.max(0, Number(query.ms) || 0),
      outcome: boundedText(String(query.outcome), 40),
    }));
  }
  return kept;
}

/** The turn within EXPORT_BOUNDS, every text cleaned of terminal control sequences. */
export function boundTurn(turn: ThreadTurnInput): ThreadTurn {
  const budget = new Budget(EXPORT_BOUNDS.maxTurnChars);
  const userText = budget.text(turn.userText, EXPORT_BOUNDS.maxUserTextChars);
  const answerMarkdown = budget.text(turn.answerMarkdown, EXPORT_BOUNDS.maxAnswerChars);
  return {
    eventId: turn.eventId.slice(0, 200),
    at: Number.isFinite(turn.at) ? turn.at : 0,
    userName: boundedText(turn.userName, 200),
    userText,
    ranAsWritten: turn.ranAsWritten ?? false,
    steps: turn.steps.slice(0, EXPORT_BOUNDS.maxStepsPerTurn).map((step) => ({ code: budget.text(step.code, EXPORT_BOUNDS.maxStreamChars), result: boundedResult(step.result, budget) })),
    answerMarkdown,
  };
}

/** What a turn handler knows at the end of a turn, as a record (bounded when it is stored). */
export function turnOfRequest(request: ChatRequest, answerMarkdown: string, executions: Array<{ code: string; result: ExecutionResult }>): ThreadTurnInput {
  return {
    eventId: request.eventId,
    at: Date.now(),
    userName: request.user.name,
    // The files the person attached are named after their words, as the model was told.
    userText: request.attachments.length ? `${request.text}\n\n(attached: ${request.attachments.map((file) => file.name).join(", ")})` : request.text,
    ranAsWritten: request.kind === "run" || fencedPython(request.text) !== undefined,
    steps: executions.map(({ code, result }) => ({ code, result })),
    answerMarkdown,
  };
}
