import { createHash } from "node:crypto";
import { ActionRowBuilder, ButtonBuilder, ButtonStyle } from "discord.js";
import type { AnswerFacts } from "../../core/reply.js";
import { cleanModelName, modelHash, type Rating } from "../../feedback/feedback-record.js";

/** The custom_id prefix of the feedback buttons; the bot's listener takes their clicks. */
export const FEEDBACK_PREFIX = "codebot_fb:";
/** Discord caps a component's custom_id at 100 characters. */
export const CUSTOM_ID_MAX = 100;

/** What a click on one of the buttons says. The model comes as its hash (see feedbackCustomId). */
export interface DiscordFeedbackClick {
  rating: Rating;
  steps: number;
  modelHash?: string;
  /** The answer's event id, or "#" and its hash when the id was too long to carry. */
  eventId: string;
}

/**
 * "codebot_fb:u:3:1a2b3c4d:discord:1234…": rating, steps, the model name's 8-character hash ("-"
 * when none) and the event id. 100 characters leave no room for model names, so the hash stands in:
 * `rememberModelName` (feedback-store) tells the readers of ratings which name it is, and the bot
 * does that for OPENAI_MODEL at start. An event id that does not fit is replaced by its hash.
 */
export function feedbackCustomId(rating: Rating, eventId: string, facts: AnswerFacts): string {
  const model = cleanModelName(facts.model);
  const steps = Math.max(0, Math.min(10_000, Math.trunc(facts.steps)));
  const head = `${FEEDBACK_PREFIX}${rating === "up" ? "u" : "d"}:${steps}:${model ? modelHash(model) : "-"}:`;
  const fits = head.length + eventId.length <= CUSTOM_ID_MAX && /^[^\s\p{Cc}]+$/u.test(eventId);
  const id = fits ? eventId : `#${createHash("sha256").update(eventId).digest("hex").slice(0, CUSTOM_ID_MAX - head.length - 1)}`;
  return head + id;
}

/** A custom_id back to a click; undefined for anything feedbackCustomId did not make. */
export function parseFeedbackId(customId: string): DiscordFeedbackClick | undefined {
  const match = /^codebot_fb:([ud]):(\d{1,5}):([0-9a-f]{8}|-):([^\s\p{Cc}]{1,90})$/u.exec(customId);
  if (!match) return undefined;
  const [, rating, steps, hash, eventId] = match as unknown as [string, string, string, string, string];
  return { rating: rating === "u" ? "up" : "down", steps: Number(steps), ...(hash !== "-" ? { modelHash: hash } : {}), eventId };
}

/** The 👍/👎 row the Discord delivery appends to an answer of the model (one that has `facts`). */
export function feedbackRow(eventId: string, facts: AnswerFacts): ActionRowBuilder<ButtonBuilder> {
  return new ActionRowBuilder<ButtonBuilder>().addComponents(
    new ButtonBuilder().setCustomId(feedbackCustomId("up", eventId, facts)).setStyle(ButtonStyle.Secondary).setEmoji("👍"),
    new ButtonBuilder().setCustomId(feedbackCustomId("down", eventId, facts)).setStyle(ButtonStyle.Secondary).setEmoji("👎"),
  );
}
