import type { KnownBlock, WebClient } from "@slack/web-api";
import type { ChatRequest } from "../../core/chat-request.js";
import { neutralizeMassMentions } from "../../core/mentions.js";
import type { Answer, Delivery, OutgoingFile, StatusUpdate } from "../../core/reply.js";
import type { Logger } from "../../log.js";
import { markdownToMrkdwn } from "./slack-markdown.js";

export const STOP_ACTION_ID = "codebot_stop";

/** Longest answer shown inline; longer ones are sent as a file with a short preview. */
const INLINE_LIMIT = 3500;
/** Longest code shown inline; longer code is sent as a snippet file. */
const INLINE_CODE_LIMIT = 1500;
const PHASE_EMOJI: Record<StatusUpdate["phase"], string> = { thinking: ":thought_balloon:", running: ":gear:", uploading: ":outbox_tray:" };

function where(request: ChatRequest) {
  return { channel: request.conversation.channelId, thread_ts: request.replyContext.threadTs };
}

function statusBlocks(text: string, eventId: string): KnownBlock[] {
  return [
    { type: "section", text: { type: "mrkdwn", text } },
    { type: "actions", elements: [{ type: "button", action_id: STOP_ACTION_ID, value: eventId, style: "danger", text: { type: "plain_text", text: "Stop" } }] },
  ];
}

/**
 * The delivery port for Slack: one status message per request that changes as the work goes on
 * (with a Stop button) and becomes the answer; charts and files uploaded to the thread.
 */
export class SlackDelivery implements Delivery {
  /** The status message of each request in flight, by event id. */
  private readonly statusMessages = new Map<string, string>();

  constructor(
    private readonly client: WebClient,
    private readonly log: Logger,
  ) {}

  async status(request: ChatRequest, update: StatusUpdate): Promise<void> {
    const text = `${PHASE_EMOJI[update.phase]} ${update.text}`;
    await this.show(request, text, statusBlocks(text, request.eventId));
  }

  async answer(request: ChatRequest, answer: Answer): Promise<void> {
    const uploads: OutgoingFile[] = [...answer.images, ...answer.files];
    let text = markdownToMrkdwn(neutralizeMassMentions(answer.markdown));
    if (text.length > INLINE_LIMIT) {
      uploads.unshift({ name: "answer.md", mime: "text/markdown", data: Buffer.from(answer.markdown) });
      text = `${text.slice(0, 600).trimEnd()}…\n_(The full answer is in answer.md below.)_`;
    }
    const code = answer.code.join("\n\n# ---\n\n");
    if (code.length > INLINE_CODE_LIMIT) uploads.push({ name: "code.py", mime: "text/x-python", data: Buffer.from(code) });
    else if (code) text += `\n\n_Code that ran:_\n\`\`\`\n${code.replace(/```/g, "`\u200b``")}\n\`\`\``;
    if (answer.skippedFiles.length) text += `\n_Not sent: ${answer.skippedFiles.join("; ")}_`;
    await this.show(request, text, []);
    this.statusMessages.delete(request.eventId);
    if (uploads.length) await this.upload(request, uploads);
  }

  async fail(request: ChatRequest, failure: { message: string }): Promise<void> {
    await this.show(request, `:warning: ${markdownToMrkdwn(neutralizeMassMentions(failure.message))}`, []);
    this.statusMessages.delete(request.eventId);
  }

  /** Updates the request's status message, or posts it when there is none yet. */
  private async show(request: ChatRequest, text: string, blocks: KnownBlock[]): Promise<void> {
    const ts = this.statusMessages.get(request.eventId);
    if (ts) {
      try {
        await this.client.chat.update({ channel: request.conversation.channelId, ts, text, blocks });
        return;
      } catch (error) {
        this.log.warn({ err: error, requestId: request.eventId }, "could not update the status message; posting a new one");
      }
    }
    const posted = await this.client.chat.postMessage({ ...where(request), text, blocks, unfurl_links: false, unfurl_media: false });
    if (posted.ts) this.statusMessages.set(request.eventId, posted.ts);
  }

  private async upload(request: ChatRequest, files: OutgoingFile[]): Promise<void> {
    const { channel, thread_ts } = where(request);
    await this.client.files.uploadV2({
      channel_id: channel,
      ...(thread_ts ? { thread_ts } : {}),
      file_uploads: files.map((file) => ({ file: file.data, filename: file.name, title: file.name })),
    });
  }
}
