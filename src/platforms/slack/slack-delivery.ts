import type { KnownBlock, MessageAttachment, WebClient } from "@slack/web-api";
import { AnswerDraft } from "../../core/answer-draft.js";
import type { AnswerEvent } from "../../core/answer-events.js";
import type { ChatRequest } from "../../core/chat-request.js";
import { MessagePace } from "../../core/message-pace.js";
import { PacedFlush } from "../../core/paced-flush.js";
import { neutralizeMassMentions, slackSafeText } from "../../core/mentions.js";
import type { Answer, Delivery, OutgoingFile, StatusUpdate } from "../../core/reply.js";
import type { Logger } from "../../log.js";
import { SlackAnswerStream } from "./slack-answer-stream.js";
import { slackAnswerMessage, slackStreamEnd } from "./slack-answer-message.js";
import { SlackAssistantStatus } from "./slack-assistant-status.js";
import { draftMrkdwn } from "./slack-draft-message.js";
import { escapeMrkdwn } from "./slack-markdown.js";
import { NO_UNFURL } from "./slack-no-unfurl.js";
import { clipMrkdwn } from "./slack-text.js";

export const STOP_ACTION_ID = "codebot_stop";

/** Longest message text sent (Slack advises under 4,000 characters, and truncates far longer ones). */
export const SLACK_MAX_TEXT = 3900;
/** A status line sits in a section block, whose text Slack caps at 3,000 characters. */
const STATUS_LIMIT = 2900;
/** Where Slack doesn't stream: the status message shows the answer so far, at most once a second. */
export const SLACK_UPDATE_INTERVAL_MS = 1000;
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

/** Every message goes through this last: mentions defused, < > & escaped, length capped. */
function finalText(mrkdwn: string, max = SLACK_MAX_TEXT): string {
  return clipMrkdwn(slackSafeText(mrkdwn), max);
}

/** A request's answer in the making: streamed into its own message, or drafted in the status message. */
interface InFlight {
  stream?: SlackAnswerStream;
  draft?: { view: AnswerDraft; pacer: PacedFlush };
}

/**
 * The delivery port for Slack. Each request has a status message (what it is doing, and a Stop
 * button). The answer is streamed into a message of its own as the model writes it (chat
 * streaming: text, and each code step as a task of the message's timeline); where a workspace
 * doesn't offer streaming, the status message shows the answer so far, updated once a second.
 * Charts and files are uploaded to the thread. In an assistant thread the assistant's status is
 * set too.
 */
export class SlackDelivery implements Delivery {
  /** The status message of each request in flight, by event id. */
  private readonly statusMessages = new Map<string, string>();
  private readonly inFlight = new Map<string, InFlight>();
  /** Workspaces that refused to stream: their answers are drafted in the status message. */
  private readonly noStreaming = new Set<string>();
  private readonly assistant: SlackAssistantStatus;
  /** Every update of a request's status message at least SLACK_UPDATE_INTERVAL_MS apart. */
  private readonly pace = new MessagePace(SLACK_UPDATE_INTERVAL_MS);

  constructor(
    private readonly client: WebClient,
    private readonly log: Logger,
  ) {
    this.assistant = new SlackAssistantStatus(client, log);
  }

  async status(request: ChatRequest, update: StatusUpdate): Promise<void> {
    await this.assistant.set(request, update.text);
    // Once the answer is being drafted in the status message, the draft is the status.
    if (this.inFlight.get(request.eventId)?.draft) return;
    const text = finalText(`${PHASE_EMOJI[update.phase]} ${plain(update.text)}`, STATUS_LIMIT);
    await this.show(request, text, statusBlocks(text, request.eventId));
  }

  async event(request: ChatRequest, event: AnswerEvent): Promise<void> {
    const flight = this.flightOf(request);
    if (flight.stream) {
      flight.stream.apply(event);
      if (flight.stream.state !== "refused") return;
      // Refused at its start (nothing was shown): the status message shows the answer from here on.
      this.noStreaming.add(request.conversation.workspaceId ?? "");
      flight.draft = { view: flight.stream.draft, pacer: this.draftPacer(request, flight.stream.draft) };
      flight.stream = undefined;
    } else {
      flight.draft ??= ((view) => ({ view, pacer: this.draftPacer(request, view) }))(new AnswerDraft());
      flight.draft.view.apply(event);
    }
    flight.draft.pacer.request();
  }

  async answer(request: ChatRequest, answer: Answer): Promise<void> {
    const flight = this.inFlight.get(request.eventId);
    this.inFlight.delete(request.eventId);
    await this.endDraft(flight);
    await this.assistant.clear(request);
    if (flight?.stream && (await this.endStream(request, flight.stream, answer))) return;
    const message = slackAnswerMessage(answer, request.eventId, request.schedule?.id);
    await this.show(request, finalText(message.text), message.blocks, message.attachments, flight?.draft !== undefined);
    this.finished(request);
    if (message.uploads.length) await this.upload(request, message.uploads);
  }

  /** A failure is plain text (it may quote a file name or an error), never markdown. */
  async fail(request: ChatRequest, failure: { message: string }): Promise<void> {
    const flight = this.inFlight.get(request.eventId);
    this.inFlight.delete(request.eventId);
    await this.endDraft(flight);
    await this.assistant.clear(request);
    // Plain words in a markdown stream: a quoted file name can't become a disguised link.
    if (flight?.stream && (await flight.stream.finish(`:warning: ${failure.message.replace(/\]\(/g, "]\u200b(")}`, []))) {
      await this.removeStatus(request);
      return;
    }
    await this.show(request, finalText(`:warning: ${plain(failure.message)}`), [], [], flight?.draft !== undefined);
    this.finished(request);
  }

  /** The drafted status message's updates end; its last change (the answer) keeps their pace (show, paced). */
  private async endDraft(flight: InFlight | undefined): Promise<void> {
    if (!flight?.draft) return;
    await flight.draft.pacer.stop();
  }

  private flightOf(request: ChatRequest): InFlight {
    let flight = this.inFlight.get(request.eventId);
    if (!flight) {
      flight = {};
      // Slack streams only in a thread; a DM's top level gets the drafted status message.
      const canStream = request.replyContext.threadTs !== undefined && !this.noStreaming.has(request.conversation.workspaceId ?? "");
      if (canStream) flight.stream = new SlackAnswerStream(this.client, request, this.log.child({ requestId: request.eventId }));
      this.inFlight.set(request.eventId, flight);
    }
    return flight;
  }

  private draftPacer(request: ChatRequest, view: AnswerDraft): PacedFlush {
    return new PacedFlush(async () => {
      const text = finalText(draftMrkdwn(view), STATUS_LIMIT);
      await this.show(request, text, statusBlocks(text, request.eventId), [], true);
    }, SLACK_UPDATE_INTERVAL_MS);
  }

  /** Ends the streamed message with what the answer adds; false when the stream can't be ended. */
  private async endStream(request: ChatRequest, stream: SlackAnswerStream, answer: Answer): Promise<boolean> {
    const streamed = stream.draft.text.trim();
    // What the answer adds after the streamed words (notes, a limit reached, a run's output).
    const rest = answer.markdown.startsWith(streamed) ? answer.markdown.slice(streamed.length).trim() : "";
    const end = slackStreamEnd(answer, request.eventId, stream.overflowed, request.schedule?.id);
    const extra = [rest, end.markdown].filter(Boolean).join("\n\n");
    if (!(await stream.finish(extra, end.blocks))) {
      // Broken midway: the part shown is removed and the answer posted whole.
      if (stream.ts) await this.client.chat.delete({ channel: request.conversation.channelId, ts: stream.ts }).catch(() => undefined);
      return false;
    }
    await this.removeStatus(request);
    if (end.table) await this.client.chat.postMessage({ ...where(request), text: finalText(end.table.text), attachments: end.table.attachments, ...NO_UNFURL });
    if (end.uploads.length) await this.upload(request, end.uploads);
    return true;
  }

  /** The request's status message is final: nothing more to track for it. */
  private finished(request: ChatRequest): void {
    const ts = this.statusMessages.get(request.eventId);
    if (ts) this.pace.forget(ts);
    this.statusMessages.delete(request.eventId);
  }

  /** The status message goes once the streamed answer says it all. */
  private async removeStatus(request: ChatRequest): Promise<void> {
    const ts = this.statusMessages.get(request.eventId);
    this.finished(request);
    if (!ts) return;
    await this.client.chat.delete({ channel: request.conversation.channelId, ts }).catch((error: unknown) => {
      this.log.warn({ err: error, requestId: request.eventId }, "could not remove the status message");
    });
  }

  /** Updates the request's status message, or posts it when there is none yet. */
  /** paced: a draft, which waits its turn (MessagePace). */
  private async show(request: ChatRequest, text: string, blocks: KnownBlock[], attachments: MessageAttachment[] = [], paced = false): Promise<void> {
    const ts = this.statusMessages.get(request.eventId);
    if (ts) {
      try {
        if (paced) await this.pace.turn(ts);
        else this.pace.mark(ts);
        await this.client.chat.update({ channel: request.conversation.channelId, ts, text, blocks, attachments, ...NO_UNFURL });
        return;
      } catch (error) {
        this.log.warn({ err: error, requestId: request.eventId }, "could not update the status message; posting a new one");
      }
    }
    const posted = await this.client.chat.postMessage({ ...where(request), text, blocks, attachments, ...NO_UNFURL });
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
