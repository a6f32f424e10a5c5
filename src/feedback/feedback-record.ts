import { createHash } from "node:crypto";
import { z } from "zod";

/** A thumbs up or down on one answer of the model. */
export const ratingSchema = z.enum(["up", "down"]);
export type Rating = z.infer<typeof ratingSchema>;

/** An id as the platforms make them (event ids, user ids, thread keys): one printable word. */
const idSchema = z.string().min(1).max(300).regex(/^[^\s\p{Cc}]+$/u);

/** Longest model name kept (it travels inside a Slack button's value). */
export const MODEL_NAME_MAX = 100;

/** A model name as shown: printable, bounded. */
export const modelNameSchema = z.string().min(1).max(MODEL_NAME_MAX).regex(/^[^\p{Cc}]+$/u);

/**
 * One person's rating of one answer: what it was made with (model, code steps), never the text
 * of the question or the answer. A second click by the same person on the same answer replaces it.
 */
export const feedbackRecordSchema = z.object({
  threadKey: idSchema,
  /** The event id of the request the answer answered. */
  eventId: idSchema,
  userId: idSchema,
  rating: ratingSchema,
  model: modelNameSchema.optional(),
  /** Set instead of `model` when the platform's button could only carry the name's hash (Discord). */
  modelHash: z.string().regex(/^[0-9a-f]{8}$/).optional(),
  steps: z.number().int().min(0).max(10_000),
  at: z.number().int().positive(),
});
export type FeedbackRecord = z.infer<typeof feedbackRecordSchema>;

/** A model name as 8 hex characters, for ids too short to hold the name (Discord's custom_id). */
export function modelHash(model: string): string {
  return createHash("sha256").update(model).digest("hex").slice(0, 8);
}

/** A model name made fit for a record: one line, no controls, at most 100 characters. */
export function cleanModelName(model: string | undefined): string | undefined {
  const clean = model?.replace(/\p{Cc}/gu, " ").trim().slice(0, MODEL_NAME_MAX).replace(/[\ud800-\udbff]$/, "");
  return clean ? clean : undefined;
}
