import type { KnownBlock, WebClient } from "@slack/web-api";
import type { ChatRequest } from "../../core/chat-request.js";
import { displayName, displayNote, summarizeList } from "../../core/display-text.js";
import { neutralizeMassMentions, slackSafeText } from "../../core/mentions.js";
import type { Answer, Delivery, OutgoingFile, StatusUpdate } from "../../core/reply.js";
import type { Logger } from "../../log.js";
import { escapeMrkdwn, markdownToMrkdwn } from "./slack-markdown.js";
import { clipMrkdwn } from "./slack-text.js";

export const STOP_ACTION_ID = "codebot_stop";

/** Longest message text sent (Slack advises under 4,000 characters, and truncates far longer ones). */
export const SLACK_MAX_TEXT = 3900;
/** Longest answer shown inline; longer ones are sent as answer.md with a short preview. */
const INLINE_LIMIT = 3000;
const PREVIEW_LIMIT = 600;
/** Longest code shown inline; longer code is sent as a snippet file. */
const INLINE_CODE_LIMIT = 1500;
/** A status line sits in a section block, whose text Slack caps at 3,000 characters. */
const STATUS_LIMIT = 2900;
/** One "not sent" entry: a clipped file name and the reason. */
const NOTE_ENTRY_LIMIT = 120;
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

/** Plain text (a file name, an error) as mrkdwn: Slack's mentions turned to words, < > & escaped. */
function plain(text: string): string {
  return escapeMrkdwn(neutralizeMassMentions(text));
}

/** "Not sent: a.csv (too large); … and 1,990 more", bounded whatever the list. */
function notSent(entries: string[]): string {
  if (!entries.length) return "";
  return `\n_Not sent: ${summarizeList(entries.map((entry) => plain(displayNote(entry, NOTE_ENTRY_LIMIT)))).join("; ")}_`;
}

/** Every message goes through this last: mentions defused, < > & escaped, length capped. */
function finalText(mrkdwn: string, max = SLACK_MAX_TEXT): string {
  return clipMrkdwn(slackSafeText(mrkdwn), max);
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
    const text = finalText(`${PHASE_EMOJI[update.phase]} ${plain(update.text)}`, STATUS_LIMIT);
    await this.show(request, text, statusBlocks(text, request.eventId));
  }

  async answer(request: ChatRequest, answer: Answer): Promise<void> {
    const uploads: OutgoingFile[] = [...answer.images, ...answer.files].map((file) => ({ ...file, name: displayName(file.name) }));
    const notes = notSent(answer.skippedFiles);
    let body = markdownToMrkdwn(neutralizeMassMentions(answer.markdown));
    const code = answer.code.join("\n\n# ---\n\n");
    let codeText = code && code.length <= INLINE_CODE_LIMIT ? `\n\n_Code that ran:_\n\`\`\`\n${escapeMrkdwn(code.replace(/```/g, "`\u200b``"))}\n\`\`\`` : "";
    if (body.length > INLINE_LIMIT || body.length + codeText.length + notes.length > SLACK_MAX_TEXT) {
      uploads.unshift({ name: "answer.md", mime: "text/markdown", data: Buffer.from(answer.markdown) });
      body = `${clipMrkdwn(body, PREVIEW_LIMIT)}\n_(The full answer is in answer.md below.)_`;
    }
    if (body.length + codeText.length + notes.length > SLACK_MAX_TEXT) codeText = "";
    if (code && !codeText) uploads.push({ name: "code.py", mime: "text/x-python", data: Buffer.from(code) });
    await this.show(request, finalText(body + codeText + notes), []);
    this.statusMessages.delete(request.eventId);
    if (uploads.length) await this.upload(request, uploads);
  }

  /** A failure is plain text (it may quote a file name or an error), never markdown. */
  async fail(request: ChatRequest, failure: { message: string }): Promise<void> {
    await this.show(request, finalText(`:warning: ${plain(failure.message)}`), []);
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
