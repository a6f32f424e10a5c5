import type { ContextActionsBlock, KnownBlock } from "@slack/web-api";
import type { AnswerFacts } from "../../core/reply.js";
import { cleanModelName, type Rating } from "../../feedback/feedback-record.js";

/** The action_id of the feedback buttons under an answer; the bot's listener takes its clicks. */
export const FEEDBACK_ACTION_ID = "codebot_feedback";
/** Slack caps a feedback button's value at 2,000 characters. */
export const FEEDBACK_VALUE_MAX = 2000;
/** Event ids are at most 200 characters (chatRequestSchema); anything longer is cut, never sent whole. */
const EVENT_ID_MAX = 300;
const VERSION = "v1";

/** What a click on one of the buttons says: the rating, and the answer it is about. */
export interface FeedbackClick {
  rating: Rating;
  eventId: string;
  steps: number;
  model?: string;
}

/**
 * A button's value: "v1|up|3|<event id>|<model>", the model last (its name may hold "|"). The
 * click then carries everything the record needs, and no lookup is needed at click time.
 */
export function feedbackValue(rating: Rating, eventId: string, facts: AnswerFacts): string {
  const steps = Math.max(0, Math.min(10_000, Math.trunc(facts.steps)));
  const value = [VERSION, rating, String(steps), eventId.slice(0, EVENT_ID_MAX), cleanModelName(facts.model) ?? ""].join("|");
  return value.slice(0, FEEDBACK_VALUE_MAX);
}

/** A button value back to a click; undefined for anything this version did not make. */
export function parseFeedbackValue(value: string): FeedbackClick | undefined {
  const [version, rating, steps, eventId, ...model] = value.split("|");
  if (version !== VERSION || (rating !== "up" && rating !== "down") || !eventId || !/^\d{1,5}$/.test(steps ?? "")) return undefined;
  return { rating, eventId, steps: Number(steps), model: cleanModelName(model.join("|")) };
}

/**
 * The 👍/👎 row the Slack delivery appends to an answer of the model (one that has `facts`):
 * a context_actions block with Slack's feedback_buttons element. Clicks arrive as block_actions
 * with action_id FEEDBACK_ACTION_ID and the clicked button's value.
 */
export function feedbackBlock(eventId: string, facts: AnswerFacts): KnownBlock {
  const block: ContextActionsBlock = {
    type: "context_actions",
    elements: [
      {
        type: "feedback_buttons",
        action_id: FEEDBACK_ACTION_ID,
        positive_button: { text: { type: "plain_text", text: "👍" }, accessibility_label: "Good answer", value: feedbackValue("up", eventId, facts) },
        negative_button: { text: { type: "plain_text", text: "👎" }, accessibility_label: "Not a good answer", value: feedbackValue("down", eventId, facts) },
      },
    ],
  };
  return block;
}
