import OpenAI from "openai";
import { TurnFailure } from "../core/turn-failure.js";

/** An outage that may pass: the endpoint unreachable or timing out, a 5xx, a 429. */
export function isTransientLlmError(error: unknown): boolean {
  if (error instanceof OpenAI.APIConnectionError) return true; // timeouts included
  if (error instanceof OpenAI.APIError) return error.status === 429 || (error.status ?? 0) >= 500;
  return false;
}

/** Turns what the OpenAI SDK throws (after its own retries) into a message for people (the error itself is its cause, for the log). */
export function llmFailure(error: unknown, attempts: number): TurnFailure {
  const tries = `after ${attempts} ${attempts === 1 ? "try" : "tries"}`;
  if (error instanceof OpenAI.APIConnectionTimeoutError) {
    return new TurnFailure("MODEL_UNAVAILABLE", `The model did not answer in time (${tries}). Please try again later.`, false, { cause: error });
  }
  if (error instanceof OpenAI.APIConnectionError) {
    return new TurnFailure("MODEL_UNAVAILABLE", `The model endpoint can't be reached (${tries}). Please try again later.`, false, { cause: error });
  }
  if (error instanceof OpenAI.APIError) {
    const status = error.status ?? 0;
    if (status === 429) return new TurnFailure("MODEL_UNAVAILABLE", `The model is rate-limited (HTTP 429, ${tries}). Please try again in a minute.`, false, { cause: error });
    if (status >= 500) return new TurnFailure("MODEL_UNAVAILABLE", `The model is unavailable (HTTP ${status}, ${tries}). Please try again later.`, false, { cause: error });
    if (status === 401 || status === 403) return new TurnFailure("MODEL_UNAVAILABLE", "The model endpoint refused codebot's credentials: an admin should check OPENAI_API_KEY.", false, { cause: error });
    // The endpoint's own words stay in the log: a proxy may echo the request, key included.
    return new TurnFailure("MODEL_UNAVAILABLE", `The model rejected the request (HTTP ${status}).`, false, { cause: error });
  }
  return new TurnFailure("INTERNAL", "Talking to the model failed.", false, { cause: error });
}
