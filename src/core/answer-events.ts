import type { ExecutionStatus } from "./execution-result.js";

/**
 * What a turn shows while it is being written, in order, from the agent loop to the delivery port:
 * the model's words as they come, and each code step as it starts and ends. The answer itself
 * (Delivery.answer) is the stream's end; each platform renders the events in its own idiom
 * (Slack's chat streaming, Discord's paced edits, the terminal as it goes).
 */
export type AnswerEvent =
  /** More of the model's answer text (markdown, possibly cut mid-word or mid-markup). */
  | { type: "text"; delta: string }
  /** A code step began: the code that runs. */
  | { type: "step-started"; step: number; code: string }
  /** A code step ended: its status and a one-line outcome ("ok, 3 rows", "KeyError: 'date'"). */
  | { type: "step-finished"; step: number; status: ExecutionStatus; outcome: string; durationMs: number };

/** One code step of an answer, as the answer lists it. */
export interface AnswerStep {
  step: number;
  code: string;
  status: ExecutionStatus;
  /** One line, the sandbox's words clipped: never markup to render. */
  outcome: string;
  durationMs: number;
}
