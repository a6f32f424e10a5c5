import type { ChatRequest } from "./chat-request.js";

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

/** The turn's final answer. */
export interface Answer {
  /** Markdown (CommonMark); each adapter converts it to its platform's format. */
  markdown: string;
  /** The code that ran, in order. */
  code: string[];
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
  answer(request: ChatRequest, answer: Answer): Promise<void>;
  fail(request: ChatRequest, failure: Failure): Promise<void>;
}
