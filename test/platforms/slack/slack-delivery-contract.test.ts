import { WebClient } from "@slack/web-api";
import { afterAll, beforeAll } from "vitest";
import { chatRequestSchema, type ChatRequest } from "../../../src/core/chat-request.js";
import { createLogger } from "../../../src/log.js";
import { SLACK_MAX_TEXT, SlackDelivery } from "../../../src/platforms/slack/slack-delivery.js";
import { MESSAGE_METHODS, markdownOfBlocks, PLAIN_MASS_MENTION, previewProblems, SLACK_TOKEN, stringsIn } from "../../support/slack-answers.js";
import { deliveryContract } from "../delivery-contract.js";
import { startSlackStandIn, type SlackCall, type SlackStandIn } from "../../support/stand-ins/slack-web-api-stand-in.js";

/** Slack's markdown blocks share a cumulative limit per message (docs.slack.dev, markdown block). */
const MARKDOWN_BLOCKS_LIMIT = 12_000;

let slack: SlackStandIn;
let delivery: SlackDelivery;
let clock = 1_730_000_000;

beforeAll(async () => {
  slack = await startSlackStandIn();
  delivery = new SlackDelivery(new WebClient(slack.botToken, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } }), createLogger("silent"));
});

afterAll(async () => {
  await slack?.close();
});

/** A request in a channel thread of its own (where Slack streams answers). */
function request(): ChatRequest {
  const ts = `${++clock}.000100`;
  return chatRequestSchema.parse({
    eventId: `slack:${slack.teamId}:C0DATATEAM:${ts}`,
    user: { id: "U0ALICE001", name: "alice" },
    conversation: { platform: "slack", workspaceId: slack.teamId, channelId: "C0DATATEAM", threadId: ts },
    text: "hi",
    replyContext: { threadTs: ts },
    receivedAt: Date.now(),
  });
}

/** The thread's messages by ts: posted (or streamed) into the thread, changed by updates, gone once deleted; each call in order. */
function messagesOf(req: ChatRequest): { calls: SlackCall[]; latest: Map<string, SlackCall> } {
  const thread = String(req.replyContext.threadTs);
  const own = new Set<string>();
  const calls: SlackCall[] = [];
  const latest = new Map<string, SlackCall>();
  for (const call of slack.calls) {
    const ts = String(call.args.ts ?? call.response?.ts ?? "");
    const mine = (call.args.thread_ts === thread && call.response?.ts) || own.has(ts);
    if (!mine) continue;
    calls.push(call);
    if (call.method === "chat.postMessage" || call.method === "chat.startStream") own.add(ts);
    if (call.method === "chat.postMessage" || call.method === "chat.update") latest.set(ts, call);
    if (call.method === "chat.delete") latest.delete(ts);
  }
  return { calls, latest };
}

deliveryContract("Slack (WebClient on the Slack Web API stand-in)", () => ({
  delivery,
  request,
  // Every string of every message call, and each streamed message's markdown so far.
  sent: async (req) => [
    ...messagesOf(req).calls.filter((call) => MESSAGE_METHODS.has(call.method)).flatMap((call) => stringsIn(call.args).map((entry) => entry.text)),
    ...slack.streams.filter((stream) => stream.threadTs === req.replyContext.threadTs).map((stream) => stream.markdown),
  ],
  shown: async (req) => {
    const { latest } = messagesOf(req);
    const thread = String(req.replyContext.threadTs);
    const deleted = new Set(slack.callsTo("chat.delete").map((call) => String(call.args.ts)));
    const posted = [...latest.values()].map((call) => markdownOfBlocks(call.args.blocks) || String(call.args.text ?? ""));
    const streamed = slack.streams.filter((stream) => stream.threadTs === thread && !deleted.has(stream.ts)).map((stream) => stream.markdown);
    return [...streamed, ...posted];
  },
  files: async (req) => slack.uploads.filter((upload) => upload.threadTs === req.replyContext.threadTs).map((upload) => ({ name: upload.filename, bytes: upload.bytes })),
  previewProblems: async (req) => previewProblems(messagesOf(req).calls),
  limitProblems: async (req) =>
    messagesOf(req).calls.flatMap((call) => {
      const text = String(call.args.text ?? "");
      const markdown = markdownOfBlocks(call.args.blocks);
      return [
        ...(text.length > SLACK_MAX_TEXT ? [`${call.method} text of ${text.length} characters`] : []),
        ...(markdown.length > MARKDOWN_BLOCKS_LIMIT ? [`${call.method} markdown blocks of ${markdown.length} characters`] : []),
      ];
    }),
  pings: (text) => SLACK_TOKEN.test(text) || PLAIN_MASS_MENTION.test(text),
  platformMentions: "<!channel> <!here> <!subteam^S0123|@analysts> <@U0ALICE001> <@W0BOB0001>",
  progress: "text",
  refuse: async (on) => {
    for (const method of ["chat.postMessage", "chat.update", "chat.startStream"]) slack.failAlways(method, on ? "channel_not_found" : undefined);
  },
}));
