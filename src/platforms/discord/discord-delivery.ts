import { Routes, type REST } from "discord.js";
import type { ChatRequest } from "../../core/chat-request.js";
import { neutralizeMassMentions } from "../../core/mentions.js";
import type { Answer, Delivery, OutgoingFile, StatusUpdate } from "../../core/reply.js";
import type { Logger } from "../../log.js";
import { splitMessage } from "./discord-text.js";

export const STOP_PREFIX = "codebot_stop:";
const FILES_PER_MESSAGE = 10;
const INLINE_CODE_LIMIT = 1500;
const PHASE_EMOJI: Record<StatusUpdate["phase"], string> = { thinking: "💭", running: "⚙️", uploading: "📤" };
/** No message of the bot pings anyone: not @everyone, not roles, not users. */
const NO_PINGS = { parse: [] as string[] };

interface MessageBody {
  content: string;
  components?: object[];
}

function stopButton(eventId: string): object[] {
  return [{ type: 1, components: [{ type: 2, style: 4, label: "Stop", custom_id: `${STOP_PREFIX}${eventId}` }] }];
}

/**
 * The delivery port for Discord, over the REST API only (a worker needs no gateway connection):
 * a status message with a Stop button that becomes the answer's first part, the rest split under
 * 2,000 characters, charts and files as attachments (10 per message, oversize ones refused).
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
    await this.show(request, { content: `${PHASE_EMOJI[update.phase]} ${update.text}`, components: stopButton(request.eventId) });
  }

  async answer(request: ChatRequest, answer: Answer): Promise<void> {
    const attachments: OutgoingFile[] = [...answer.images, ...answer.files];
    const notes = [...answer.skippedFiles];
    const sendable = attachments.filter((file) => {
      if (file.data.length <= this.maxUploadBytes) return true;
      notes.push(`${file.name} (${(file.data.length / 1048576).toFixed(1)} MB, over Discord's ${Math.round(this.maxUploadBytes / 1048576)} MB upload limit)`);
      return false;
    });
    let text = neutralizeMassMentions(answer.markdown);
    const code = answer.code.join("\n\n# ---\n\n");
    if (code.length > INLINE_CODE_LIMIT) sendable.push({ name: "code.py", mime: "text/x-python", data: Buffer.from(code) });
    else if (code) text += `\n\n-# Code that ran:\n\`\`\`python\n${code.replace(/```/g, "`\u200b``")}\n\`\`\``;
    if (notes.length) text += `\n\n-# Not sent: ${notes.join("; ")}`;
    const [first = "", ...rest] = splitMessage(text);
    await this.show(request, { content: first, components: [] });
    this.statusMessages.delete(request.eventId);
    for (const chunk of rest) await this.post(request, { content: chunk });
    for (let i = 0; i < sendable.length; i += FILES_PER_MESSAGE) {
      await this.post(request, { content: "" }, sendable.slice(i, i + FILES_PER_MESSAGE));
    }
  }

  async fail(request: ChatRequest, failure: { message: string }): Promise<void> {
    await this.show(request, { content: `⚠️ ${neutralizeMassMentions(failure.message)}`, components: [] });
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
