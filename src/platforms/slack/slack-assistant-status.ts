import type { WebClient } from "@slack/web-api";
import type { ChatRequest } from "../../core/chat-request.js";
import { displayName } from "../../core/display-text.js";
import { neutralizeMassMentions } from "../../core/mentions.js";
import type { Logger } from "../../log.js";

/** Slack shows an assistant's status in a line under the thread; keep it short. */
const STATUS_CHARS = 60;

/**
 * In an assistant thread (Slack's AI app surface; the bot marks such requests with
 * replyContext.assistantThread = "1"), what the worker is doing also shows as the assistant's
 * status ("is running code, step 2…"), cleared when the answer is there. Best effort: a status
 * that can't be set never holds up the answer.
 */
export class SlackAssistantStatus {
  constructor(
    private readonly client: WebClient,
    private readonly log: Logger,
  ) {}

  async set(request: ChatRequest, text: string): Promise<void> {
    if (!this.applies(request)) return;
    await this.call(request, neutralizeMassMentions(displayName(text.replace(/…$/, "").toLowerCase(), STATUS_CHARS)));
  }

  async clear(request: ChatRequest): Promise<void> {
    if (this.applies(request)) await this.call(request, "");
  }

  private applies(request: ChatRequest): boolean {
    return request.replyContext.assistantThread === "1" && request.replyContext.threadTs !== undefined;
  }

  private async call(request: ChatRequest, status: string): Promise<void> {
    try {
      await this.client.assistant.threads.setStatus({ channel_id: request.conversation.channelId, thread_ts: request.replyContext.threadTs ?? "", status });
    } catch (error) {
      this.log.warn({ err: error, requestId: request.eventId }, "could not set the assistant thread's status");
    }
  }
}
