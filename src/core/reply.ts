import type { AnswerEvent, AnswerStep } from "./answer-events.js";
import type { ChatRequest } from "./chat-request.js";
import type { TableValue } from "./execution-result.js";

/** A file or image going back to the user. */
export interface OutgoingFile {
  name: string;
  mime: string;
  data: Buffer;
}

/** What the worker says while it works: "thinking", "running code, step 2", "uploading". */
export interface StatusUpdate {
  phase: "thinking" | "running" | "uploading";
  step?: number;
  text: string;
}

/** A DataFrame or Series a step ended with, shown as a table, with its full data as CSV. */
export interface AnswerTable {
  step: number;
  table: TableValue;
  /** The full data (as far as the size cap let it be written). */
  csv?: OutgoingFile;
}

/** What an answer was made with, for feedback records: never message text. */
export interface AnswerFacts {
  model?: string;
  steps: number;
}

/** The turn's final answer. */
export interface Answer {
  /** Markdown (CommonMark); each adapter converts it to its platform's format. */
  markdown: string;
  /** The code that ran, in order. */
  code: string[];
  /** The code steps with their outcomes, in order (same code as `code`). */
  steps: AnswerStep[];
  /** DataFrames and Series the steps ended with. */
  tables: AnswerTable[];
  /** Set on answers of the model that people may rate (thumbs up/down); absent on command replies. */
  facts?: AnswerFacts;
  images: OutgoingFile[];
  files: OutgoingFile[];
  /** Files that could not be sent (too large, unreadable), with why, for the adapter to mention. */
  skippedFiles: string[];
}

/** Error codes a person sees explained in plain words. */
export type FailureCode =
  | "FILE_TOO_LARGE"
  | "FILE_UNAVAILABLE"
  | "MODEL_UNAVAILABLE"
  | "SANDBOX_UNAVAILABLE"
  | "SESSION_LIMIT"
  | "BUDGET_REACHED"
  | "NOT_ALLOWED"
  | "CANCELLED"
  | "INTERNAL";

export interface Failure {
  code: FailureCode;
  message: string;
}

/**
 * The delivery port: how a worker talks back to the conversation a request came from.
 * Each platform implements it; the worker knows no platform.
 */
export interface Delivery {
  status(request: ChatRequest, update: StatusUpdate): Promise<void>;
  /** The answer as it is being written (text deltas, steps); `answer` or `fail` ends it. */
  event(request: ChatRequest, event: AnswerEvent): Promise<void>;
  answer(request: ChatRequest, answer: Answer): Promise<void>;
  fail(request: ChatRequest, failure: Failure): Promise<void>;
}

/** A reply to a command (/reset, /files, /export): text and maybe files, no steps, no rating. */
export function commandReply(markdown: string, files: OutgoingFile[] = []): Answer {
  return { markdown, code: [], steps: [], tables: [], images: [], files, skippedFiles: [] };
}
