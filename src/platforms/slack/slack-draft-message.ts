import type { KnownBlock } from "@slack/web-api";
import type { AnswerDraft, DraftStep } from "../../core/answer-draft.js";
import { displayName } from "../../core/display-text.js";
import { neutralizeMassMentions } from "../../core/mentions.js";
import { escapeMrkdwn, markdownToMrkdwn } from "./slack-markdown.js";

/** A section's text is capped at 3,000 characters; the draft shows the latest part of the text. */
const DRAFT_TEXT_CHARS = 2400;
const STEP_LINE_CHARS = 140;

const STEP_EMOJI = (step: DraftStep) => (step.status === undefined ? ":gear:" : step.status === "ok" ? ":white_check_mark:" : ":x:");

/** A step as one mrkdwn line: "✅ Step 1 · done · 42 (0.4 s)", the outcome as escaped plain text. */
export function stepLine(step: DraftStep): string {
  const outcome = step.status === undefined ? "running…" : `${step.outcome ?? step.status}${step.durationMs !== undefined ? ` (${(step.durationMs / 1000).toFixed(1)} s)` : ""}`;
  return `${STEP_EMOJI(step)} Step ${step.step} · ${escapeMrkdwn(neutralizeMassMentions(displayName(outcome, STEP_LINE_CHARS)))}`;
}

/**
 * Where Slack offers no streaming: the answer so far shown in the request's status message
 * (the latest part of the text, the steps, the Stop button), updated at a steady pace.
 */
export function draftMrkdwn(draft: AnswerDraft): string {
  const shown = draft.text.slice(0, draft.shownLength());
  const tail = shown.length > DRAFT_TEXT_CHARS ? `…${shown.slice(shown.length - DRAFT_TEXT_CHARS)}` : shown;
  const text = tail.trim() ? markdownToMrkdwn(neutralizeMassMentions(tail)) : "";
  const steps = draft.steps.slice(-8).map(stepLine);
  return [text, steps.join("\n")].filter(Boolean).join("\n\n") || ":thought_balloon: Thinking…";
}

export type DraftBlocks = (text: string) => KnownBlock[];
