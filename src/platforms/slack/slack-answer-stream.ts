import type { AnyChunk, ChatStreamer, KnownBlock, WebClient } from "@slack/web-api";
import type { AnswerEvent } from "../../core/answer-events.js";
import { AnswerDraft, type DraftStep } from "../../core/answer-draft.js";
import type { ChatRequest } from "../../core/chat-request.js";
import { clipText, displayName } from "../../core/display-text.js";
import { PacedFlush } from "../../core/paced-flush.js";
import type { Logger } from "../../log.js";
import { slackMarkdownSafe } from "./slack-markdown-target.js";
import { StreamedMarkdown } from "./slack-stream-markdown.js";

/** At most one streaming call per message per this many ms (Slack: a message shouldn't change faster). */
export const SLACK_STREAM_INTERVAL_MS = 600;
/** Characters streamed as text at most; Slack caps a message's markdown at 12,000. A longer answer is attached. */
export const MAX_STREAMED_CHARS = 10_000;
/** A step's code shown in its task's details (the whole code is attached as code.py when longer). */
const TASK_CODE_CHARS = 1500;
const TASK_TITLE_CHARS = 80;

type TaskStatus = "in_progress" | "complete" | "error";

/** How a stream ended up: streaming, refused at its start (no message exists), or broken midway. */
export type StreamState = "idle" | "streaming" | "refused" | "broken" | "done";

/** A step's title: its first comment, else its first line ("Step 2: df = pd.read_csv(...)"). */
export function stepTitle(step: DraftStep): string {
  const lines = step.code.split("\n").map((line) => line.trim()).filter(Boolean);
  const comment = lines.find((line) => line.startsWith("#"))?.replace(/^#+\s*/, "");
  return taskText(displayName(`Step ${step.step}: ${comment || lines[0] || "code"}`, TASK_TITLE_CHARS));
}

function taskStatus(step: DraftStep): TaskStatus {
  return step.status === undefined ? "in_progress" : step.status === "ok" ? "complete" : "error";
}

/** A task's text (code, the sandbox's outcome): defused, and no `[label](url)` can become a disguised link. */
function taskText(text: string): string {
  return slackMarkdownSafe(text).replace(/\]\(/g, "]\u200b(");
}

function taskChunk(step: DraftStep): AnyChunk {
  return {
    type: "task_update",
    id: `step-${step.step}`,
    title: stepTitle(step),
    status: taskStatus(step),
    details: taskText(clipText(step.code, TASK_CODE_CHARS)),
    ...(step.outcome !== undefined ? { output: taskText(step.outcome) } : {}),
  };
}

/**
 * One answer streamed into its own Slack message through chat.startStream / appendStream /
 * stopStream (the WebClient's ChatStreamer): the model's words as they come, each code step as a
 * task of the message's timeline (running, then done or failed with a one-line outcome). Calls are
 * paced (SLACK_STREAM_INTERVAL_MS); the first goes out at once.
 */
export class SlackAnswerStream {
  readonly draft = new AnswerDraft();
  private readonly streamer: ChatStreamer;
  private readonly pacer: PacedFlush;
  /** The text as it goes out: the final answer's rules, no link or code span sent in two parts. */
  private readonly markdown = new StreamedMarkdown();
  private sentText = false;
  private readonly sentSteps = new Map<number, TaskStatus>();
  private streamState: StreamState = "idle";
  /** The error code Slack gave when it refused or broke the stream. */
  problem?: string;

  constructor(
    client: WebClient,
    request: ChatRequest,
    private readonly log: Logger,
  ) {
    this.streamer = client.chatStream({
      channel: request.conversation.channelId,
      thread_ts: request.replyContext.threadTs ?? "",
      recipient_user_id: request.user.id,
      ...(request.conversation.workspaceId ? { recipient_team_id: request.conversation.workspaceId } : {}),
      task_display_mode: "timeline",
      buffer_size: 1,
    });
    this.pacer = new PacedFlush(() => this.flush(false), SLACK_STREAM_INTERVAL_MS);
  }

  get state(): StreamState {
    return this.streamState;
  }

  /** The streamed message, once it exists. */
  get ts(): string | undefined {
    return this.streamer.ts;
  }

  /** True when the text went past what one message streams: the delivery attaches the answer. */
  get overflowed(): boolean {
    return this.draft.text.length > MAX_STREAMED_CHARS;
  }

  apply(event: AnswerEvent): void {
    this.draft.apply(event);
    if (this.streamState === "idle" || this.streamState === "streaming") this.pacer.request();
  }

  /**
   * Ends the stream: the rest of the text, what the answer adds (notes), the final state of every
   * step, and blocks (a table, feedback). False when the stream could not be ended (refused, broken).
   */
  async finish(extraMarkdown: string, blocks: KnownBlock[]): Promise<boolean> {
    await this.pacer.stop();
    if (this.streamState !== "streaming" && this.streamState !== "idle") return false;
    await this.pacer.nextTurn();
    const { text, chunks } = this.pending(true);
    // A code block the text left open is closed; what the answer adds (notes, a run's output) passes the same rules.
    const closed = `${text}${this.markdown.closing}`;
    const extra = extraMarkdown ? new StreamedMarkdown().next(extraMarkdown, extraMarkdown.length, true) : "";
    const markdown = `${closed}${extra ? `${this.sentText || closed ? "\n\n" : ""}${extra}` : ""}`;
    try {
      await this.streamer.stop({ ...(markdown ? { markdown_text: markdown } : {}), ...(chunks.length ? { chunks } : {}), ...(blocks.length ? { blocks } : {}) });
      this.streamState = "done";
      return true;
    } catch (error) {
      this.noteProblem(error);
      return false;
    }
  }

  private async flush(final: boolean): Promise<void> {
    const { text, chunks } = this.pending(final);
    if (!text && !chunks.length) return;
    try {
      await this.streamer.append({ ...(text ? { markdown_text: text } : {}), ...(chunks.length ? { chunks } : {}) });
      this.streamState = "streaming";
      if (text) this.sentText = true;
    } catch (error) {
      this.noteProblem(error);
    }
  }

  /** What has not been sent yet, marked as sent: text up to a safe cut, and steps that changed. */
  private pending(final: boolean): { text: string; chunks: AnyChunk[] } {
    const end = Math.min(final ? this.draft.text.length : this.draft.shownLength(), MAX_STREAMED_CHARS);
    const text = this.markdown.next(this.draft.text, end, final);
    const chunks: AnyChunk[] = [];
    for (const step of this.draft.steps) {
      const status = taskStatus(step);
      if (this.sentSteps.get(step.step) === status) continue;
      this.sentSteps.set(step.step, status);
      chunks.push(taskChunk(step));
    }
    return { text, chunks };
  }

  private noteProblem(error: unknown): void {
    const code = (error as { data?: { error?: string } }).data?.error ?? (error as Error).message;
    this.problem = code;
    this.streamState = this.streamer.ts ? "broken" : "refused";
    this.log.warn({ err: error, slackError: code, state: this.streamState }, this.streamState === "refused" ? "Slack refused to stream the answer; updating a message instead" : "the answer's stream broke; the answer is posted whole");
  }
}
