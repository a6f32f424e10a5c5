import type { ChatRequest } from "../core/chat-request.js";
import type { FailureCode } from "../core/reply.js";
import type { Logger } from "../log.js";
import type { TurnOutcome } from "./turn-metrics.js";
import type { TurnTally } from "./turn-tally.js";

/** Characters of the user's message an audit line carries with LOG_CONTENT=true. */
const CONTENT_MAX = 4000;

/**
 * The one structured line a log pipeline indexes per attempt of a turn (`"audit":"turn"`): who,
 * where, what kind (and which schedule, for a scheduled run), which model, how many steps, tokens and seconds, the outcome and the bytes in
 * and out. Ids only: the message's text and the user's display name only when LOG_CONTENT=true.
 * File contents never.
 */
export function auditTurn(log: Logger, request: ChatRequest, tally: TurnTally, ended: { outcome: TurnOutcome; seconds: number; code?: FailureCode; attempt: number }, logContent: boolean): void {
  const { conversation } = request;
  log.info(
    {
      audit: "turn",
      requestId: request.eventId,
      platform: conversation.platform,
      user: request.user.id,
      workspace: conversation.workspaceId ?? null,
      channel: conversation.channelId,
      thread: conversation.threadId,
      kind: request.kind,
      // A run of a schedule (src/schedules/), and which one; null for a turn someone asked for.
      scheduled: request.schedule !== undefined,
      schedule: request.schedule?.id ?? null,
      attempt: ended.attempt,
      outcome: ended.outcome,
      code: ended.code ?? null,
      model: tally.model ?? null,
      steps: tally.steps,
      executions: tally.executions,
      promptTokens: tally.usage.prompt,
      completionTokens: tally.usage.completion,
      execSeconds: round(tally.execMs / 1000),
      seconds: round(ended.seconds),
      queueSeconds: round((Date.now() - request.receivedAt) / 1000 - ended.seconds),
      attachments: request.attachments.length,
      bytesIn: tally.bytesIn,
      bytesOut: tally.bytesOut,
      ...(logContent ? { userName: request.user.name, text: request.text.slice(0, CONTENT_MAX), attachmentNames: request.attachments.map((file) => file.name) } : {}),
    },
    "turn audit",
  );
}

function round(seconds: number): number {
  return Math.round(Math.max(0, seconds) * 1000) / 1000;
}
