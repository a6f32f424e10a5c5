import { escapeMarkdown, Routes, type REST } from "discord.js";
import type { ChatRequest } from "../../core/chat-request.js";
import { clipText, displayName, displayNote, summarizeList } from "../../core/display-text.js";
import { discordSafeText } from "../../core/mentions.js";
import type { Answer, Delivery, OutgoingFile, StatusUpdate } from "../../core/reply.js";
import type { Logger } from "../../log.js";
import { DISCORD_MESSAGE_LIMIT, splitMessage } from "./discord-text.js";

export const STOP_PREFIX = "codebot_stop:";
const FILES_PER_MESSAGE = 10;
const INLINE_CODE_LIMIT = 1500;
/** Text messages per answer at most; a longer answer comes as answer.md with a preview. */
export const MAX_TEXT_MESSAGES = 4;
const PREVIEW_LIMIT = 1500;
/** Attachments per answer at most (three messages of ten); more are listed as not sent. */
const MAX_ATTACHMENTS = 30;
/** One "not sent" entry: a clipped file name and the reason. */
const NOTE_ENTRY_LIMIT = 120;
const PHASE_EMOJI: Record<StatusUpdate["phase"], string> = { thinking: "💭", running: "⚙️", uploading: "📤" };
/** No message of the bot pings anyone: not @everyone, not roles, not users. */
const NO_PINGS = { parse: [] as string[] };

interface MessageBody {
  content: string;
  components?: object[];
}

/** Text shown as text: no heading, list, link, emphasis or code markup takes effect. */
function plain(text: string): string {
  return escapeMarkdown(text, { heading: true, bulletedList: true, numberedList: true, maskedLink: true });
}

/** Every message goes through this last: mentions defused, one message's length at most. */
function finalText(markdown: string): string {
  return clipText(discordSafeText(markdown), DISCORD_MESSAGE_LIMIT);
}

function stopButton(eventId: string): object[] {
  return [{ type: 1, components: [{ type: 2, style: 4, label: "Stop", custom_id: `${STOP_PREFIX}${eventId}` }] }];
}

/**
 * The delivery port for Discord, over the REST API only (a worker needs no gateway connection):
 * a status message with a Stop button that becomes the answer's first part, the rest split under
 * 2,000 characters (at most four messages: a longer answer comes as answer.md with a preview),
 * charts and files as attachments (10 per message, oversize ones refused). Every text passes
 * discordSafeText last, and allowed_mentions stays empty.
 */
export class DiscordDelivery implements Delivery {
  private readonly statusMessages = new Map<string, string>();

  constructor(
    private readonly rest: REST,
    private readonly maxUploadBytes: number,
    private readonly log: Logger,
  ) {}

  async status(request: ChatRequest, update: StatusUpdate): Promise<void> {
    const channel = request.conversation.channelId;
    await this.rest.post(Routes.channelTyping(channel)).catch(() => undefined);
    await this.show(request, { content: finalText(`${PHASE_EMOJI[update.phase]} ${update.text}`), components: stopButton(request.eventId) });
  }

  async answer(request: ChatRequest, answer: Answer): Promise<void> {
    const notes = [...answer.skippedFiles];
    const sendable: OutgoingFile[] = [];
    for (const file of [...answer.images, ...answer.files].map((file) => ({ ...file, name: displayName(file.name) }))) {
      if (file.data.length > this.maxUploadBytes) notes.push(`${file.name} (${(file.data.length / 1048576).toFixed(1)} MB, over Discord's ${Math.round(this.maxUploadBytes / 1048576)} MB upload limit)`);
      else if (sendable.length >= MAX_ATTACHMENTS - 2) notes.push(`${file.name} (at most ${MAX_ATTACHMENTS - 2} files are attached per answer)`);
      else sendable.push(file);
    }
    const notesText = notes.length ? `\n\n-# Not sent: ${summarizeList(notes.map((note) => plain(displayNote(note, NOTE_ENTRY_LIMIT)))).join("; ")}` : "";
    let body = answer.markdown;
    const code = answer.code.join("\n\n# ---\n\n");
    let codeText = code && code.length <= INLINE_CODE_LIMIT ? `\n\n-# Code that ran:\n\`\`\`python\n${code.replace(/```/g, "`\u200b``")}\n\`\`\`` : "";
    let chunks = splitMessage(discordSafeText(body + codeText + notesText));
    if (chunks.length > MAX_TEXT_MESSAGES) {
      sendable.unshift({ name: "answer.md", mime: "text/markdown", data: Buffer.from(answer.markdown) });
      body = `${splitMessage(body, PREVIEW_LIMIT)[0] ?? ""}…\n-# (The full answer is in answer.md.)`;
      chunks = splitMessage(discordSafeText(body + codeText + notesText));
    }
    if (chunks.length > MAX_TEXT_MESSAGES) {
      codeText = "";
      chunks = splitMessage(discordSafeText(body + notesText));
    }
    if (code && !codeText) sendable.push({ name: "code.py", mime: "text/x-python", data: Buffer.from(code) });
    const [first = "", ...rest] = chunks.slice(0, MAX_TEXT_MESSAGES);
    await this.show(request, { content: first, components: [] });
    this.statusMessages.delete(request.eventId);
    for (const chunk of rest) await this.post(request, { content: chunk });
    for (let i = 0; i < sendable.length; i += FILES_PER_MESSAGE) {
      await this.post(request, { content: "" }, sendable.slice(i, i + FILES_PER_MESSAGE));
    }
  }

  /** A failure is plain text (it may quote a file name or an error), never markdown. */
  async fail(request: ChatRequest, failure: { message: string }): Promise<void> {
    await this.show(request, { content: finalText(`⚠️ ${plain(failure.message)}`), components: [] });
    this.statusMessages.delete(request.eventId);
  }

  private async show(request: ChatRequest, body: MessageBody): Promise<void> {
    const id = this.statusMessages.get(request.eventId) ?? request.replyContext.statusMessageId;
    if (id) {
      try {
        await this.rest.patch(Routes.channelMessage(request.conversation.channelId, id), { body: { ...body, allowed_mentions: NO_PINGS } });
        this.statusMessages.set(request.eventId, id);
        return;
      } catch (error) {
        this.log.warn({ err: error, requestId: request.eventId }, "could not edit the status message; posting a new one");
      }
    }
    const posted = await this.post(request, body);
    this.statusMessages.set(request.eventId, posted.id);
  }

  private async post(request: ChatRequest, body: MessageBody, files: OutgoingFile[] = []): Promise<{ id: string }> {
    const payload = {
      ...body,
      allowed_mentions: NO_PINGS,
      ...(files.length ? { attachments: files.map((file, i) => ({ id: i, filename: file.name })) } : {}),
    };
    return (await this.rest.post(Routes.channelMessages(request.conversation.channelId), {
      body: payload,
      files: files.map((file, i) => ({ key: `files[${i}]`, name: file.name, data: file.data, contentType: file.mime })),
    })) as { id: string };
  }
}
