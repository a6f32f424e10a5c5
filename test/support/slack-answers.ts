import type { SlackCall, SlackStandIn, SlackStream } from "./stand-ins/slack-web-api-stand-in.js";

/**
 * Reading answers off the Slack stand-in whichever way they came: streamed into a message of their
 * own (chat.startStream / appendStream / stopStream: markdown), or as the final chat.update of the
 * request's status message (markdown blocks, with the mrkdwn `text` for notifications), or posted
 * (when there was no status message to update).
 */
export interface SlackAnswerView {
  via: "stream" | "update" | "post";
  /** The answer's message. */
  ts: string;
  /** What people read: the streamed markdown, or the markdown blocks' text (the `text` when there are none). */
  markdown: string;
  /** The message's `text` (mrkdwn) when updated or posted; the streamed markdown when streamed. */
  text: string;
  stream?: SlackStream;
  call?: SlackCall;
}

type Block = { type?: string; text?: unknown; elements?: Array<{ action_id?: string }> };

/** The text of a message's markdown blocks, joined as Slack shows them. */
export function markdownOfBlocks(blocks: unknown): string {
  return ((blocks as Block[] | undefined) ?? [])
    .filter((block) => block.type === "markdown")
    .map((block) => String(block.text))
    .join("\n\n");
}

/** True when the message carries the Stop button: a status line or a draft, not an answer. */
export function hasStopButton(call: SlackCall): boolean {
  return JSON.stringify(call.args.blocks ?? []).includes("codebot_stop");
}

/** The bot's messages posted in a thread (status messages, tables, answers), by ts. */
function postedIn(slack: SlackStandIn, threadTs: string): SlackCall[] {
  return slack.callsTo("chat.postMessage").filter((call) => call.args.thread_ts === threadTs && call.response?.ts);
}

/** Every finished answer (and failure) in the thread, streams first, then updates, then posts. */
export function answersIn(slack: SlackStandIn, threadTs: string): SlackAnswerView[] {
  const streamed = slack.streams
    .filter((stream) => stream.threadTs === threadTs && stream.stopped)
    .map((stream): SlackAnswerView => ({ via: "stream", ts: stream.ts, markdown: stream.markdown, text: stream.markdown, stream }));
  const posted = postedIn(slack, threadTs);
  const postedTs = new Set(posted.map((call) => String(call.response?.ts)));
  const view = (via: "update" | "post", call: SlackCall): SlackAnswerView => {
    const text = String(call.args.text ?? "");
    const markdown = markdownOfBlocks(call.args.blocks);
    return { via, ts: String(call.args.ts ?? call.response?.ts), markdown: markdown || text, text, call };
  };
  const updated = slack
    .callsTo("chat.update")
    .filter((call) => postedTs.has(String(call.args.ts)) && !hasStopButton(call))
    .map((call) => view("update", call));
  const postedAnswers = posted.filter((call) => !hasStopButton(call)).map((call) => view("post", call));
  return [...streamed, ...updated, ...postedAnswers];
}

/** Waits for an answer in the thread whose markdown or text matches the pattern. */
export async function answerIn(slack: SlackStandIn, threadTs: string, pattern: RegExp = /[\s\S]/, timeoutMs = 120_000): Promise<SlackAnswerView> {
  const started = Date.now();
  for (;;) {
    const found = answersIn(slack, threadTs).find((answer) => pattern.test(answer.markdown) || pattern.test(answer.text));
    if (found) return found;
    if (Date.now() - started > timeoutMs) {
      const seen = answersIn(slack, threadTs).map((answer) => `${answer.via}: ${answer.markdown.slice(0, 200)}`);
      throw new Error(`no answer matching ${pattern} in thread ${threadTs} within ${timeoutMs} ms; answers: ${JSON.stringify(seen)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Every call the bot made about the thread: its posts, their updates and deletions, its streams. */
export function callsInThread(slack: SlackStandIn, threadTs: string): SlackCall[] {
  const ts = new Set([...postedIn(slack, threadTs).map((call) => String(call.response?.ts)), ...slack.streams.filter((stream) => stream.threadTs === threadTs).map((stream) => stream.ts)]);
  return slack.calls.filter((call) => call.args.thread_ts === threadTs || ts.has(String(call.args.ts)));
}

/** Every string in a value (an API call's arguments), however deep: text, blocks, attachments, chunks. */
export function stringsIn(value: unknown, path = "$"): Array<{ path: string; text: string }> {
  if (typeof value === "string") return [{ path, text: value }];
  if (Array.isArray(value)) return value.flatMap((item, i) => stringsIn(item, `${path}[${i}]`));
  if (value && typeof value === "object") return Object.entries(value).flatMap(([key, item]) => stringsIn(item, `${path}.${key}`));
  return [];
}

/** A Slack token that would ping or hide a link (<!channel>, <!subteam^…>, <@U…>, <#C…>), a plain mass mention, a link to the phisher. */
export const SLACK_TOKEN = /<[!@#^]/;
export const PLAIN_MASS_MENTION = /(^|[^\u200b])@(everyone|here|channel)\b/m;

/** The methods that put text in a message (file uploads are not messages: their names are shown as titles). */
export const MESSAGE_METHODS = new Set(["chat.postMessage", "chat.update", "chat.postEphemeral", "chat.startStream", "chat.appendStream", "chat.stopStream"]);

/** No string anywhere in these calls' arguments (of the methods that write messages) pings anyone or links to the phisher. */
export function slackProblems(calls: SlackCall[]): string[] {
  const problems: string[] = [];
  for (const call of calls.filter((candidate) => MESSAGE_METHODS.has(candidate.method))) {
    for (const { path, text } of stringsIn(call.args)) {
      if (SLACK_TOKEN.test(text) || PLAIN_MASS_MENTION.test(text) || /<https?:\/\/evil/.test(text)) problems.push(`${call.method} ${path}: ${JSON.stringify(text.slice(0, 300))}`);
    }
  }
  return problems;
}

/**
 * Waits until every status message in the thread is done with: deleted (its answer streamed) or
 * updated to its answer (no Stop button). A streamed answer ends before its status message goes.
 */
export async function threadSettled(slack: SlackStandIn, threadTs: string, timeoutMs = 60_000): Promise<void> {
  const started = Date.now();
  for (;;) {
    const statuses = postedIn(slack, threadTs).filter(hasStopButton).map((call) => String(call.response?.ts));
    const done = (ts: string) =>
      slack.callsTo("chat.delete").some((call) => call.args.ts === ts) || slack.callsTo("chat.update").some((call) => call.args.ts === ts && !hasStopButton(call));
    if (statuses.every(done)) return;
    if (Date.now() - started > timeoutMs) throw new Error(`the status messages of thread ${threadTs} were not removed or answered within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The methods that post or change a message outside a stream: each must turn link and media previews off. */
export const PREVIEWED_METHODS = new Set(["chat.postMessage", "chat.update", "chat.postEphemeral"]);

/** Calls that post or change a message without turning link and media previews off. */
export function previewProblems(calls: SlackCall[]): string[] {
  return calls
    .filter((call) => PREVIEWED_METHODS.has(call.method) && !(String(call.args.unfurl_links) === "false" && String(call.args.unfurl_media) === "false"))
    .map((call) => `${call.method}: unfurl_links=${String(call.args.unfurl_links)} unfurl_media=${String(call.args.unfurl_media)}`);
}
