import { WebClient } from "@slack/web-api";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { executionMarkdown } from "../../src/agent/execution-markdown.js";
import { chatRequestSchema, type ChatRequest } from "../../src/core/chat-request.js";
import type { Answer } from "../../src/core/reply.js";
import { createLogger } from "../../src/log.js";
import { SLACK_MAX_TEXT, SlackDelivery } from "../../src/platforms/slack/slack-delivery.js";
import { hostileResult } from "../helpers/hostile-result.js";
import { startSlackStandIn, type SlackCall, type SlackStandIn } from "../stand-ins/slack-web-api-stand-in.js";

/**
 * Everything the sandbox controls, sent through the real SlackDelivery and WebClient to the Slack
 * stand-in: what Slack would receive must ping nobody, link nowhere the model didn't, and stay bounded.
 */
const PINGS = "<!channel> <!here> <!everyone> <!group> <!subteam^S0123|@analysts> <@U0ALICE001> <@W0BOB0001> @everyone @here @channel";

let slack: SlackStandIn;
let delivery: SlackDelivery;
let clock = 1_720_000_000;

beforeAll(async () => {
  slack = await startSlackStandIn();
  delivery = new SlackDelivery(new WebClient(slack.botToken, { slackApiUrl: slack.apiUrl }), createLogger("silent"));
});

afterAll(async () => {
  await slack?.close();
});

function request(): ChatRequest {
  const ts = `${++clock}.000100`;
  return chatRequestSchema.parse({
    eventId: `slack:T0TEAM0001:C0DATATEAM:${ts}`,
    user: { id: "U0ALICE001", name: "alice" },
    conversation: { platform: "slack", workspaceId: "T0TEAM0001", channelId: "C0DATATEAM", threadId: ts },
    text: "hi",
    replyContext: { threadTs: ts },
    receivedAt: Date.now(),
  });
}

const answer = (extra: Partial<Answer>): Answer => ({ markdown: "", code: [], images: [], files: [], skippedFiles: [], ...extra });

/** Every text (and block text) the bot posted or updated for this request's thread. */
function sent(req: ChatRequest): string[] {
  const posted = slack.callsTo("chat.postMessage").filter((call) => call.args.thread_ts === req.replyContext.threadTs);
  const ts = new Set(posted.map((call) => String(call.response?.ts)));
  const updates = slack.callsTo("chat.update").filter((call) => ts.has(String(call.args.ts)));
  return [...posted, ...updates].flatMap((call: SlackCall) => [String(call.args.text), JSON.stringify(call.args.blocks ?? [])]);
}

function expectNoPings(texts: string[]): void {
  for (const text of texts) {
    expect(text).not.toMatch(/<[!@#]/);
    expect(text).not.toMatch(/(^|[^\u200b])@(everyone|here|channel)\b/m);
    expect(text).not.toContain("<http://evil");
  }
}

describe("Slack delivery of hostile sandbox output", () => {
  test("mass mentions in stdout, the value, an exception, notes, code, file names and status never reach Slack", async () => {
    const req = request();
    await delivery.status(req, { phase: "running", step: 1, text: `Running ${PINGS}` });
    const markdown = executionMarkdown(hostileResult(PINGS));
    const png = Buffer.from("89504e470d0a1a0a", "hex");
    await delivery.answer(req, answer({
      markdown,
      code: [`print("${PINGS}")\n# \`\`\` ${PINGS}`],
      images: [{ name: "chart-1.png", mime: "image/png", data: png }],
      files: [{ name: `${PINGS}.csv`, mime: "text/csv", data: Buffer.from("a\n1\n") }],
      skippedFiles: [`${PINGS}.bin (over the size limit)`],
    }));
    const texts = sent(req);
    expect(texts.length).toBeGreaterThanOrEqual(2);
    expectNoPings(texts);
    const final = texts.at(-2)!;
    expect(final).toContain("&lt;!channel&gt;"); // shown, as text
    expect(final).toContain("# Admin notice"); // in a code block, not a heading
    expect(final).not.toContain("*Admin notice*");
    expect(final).toContain("Not sent:");
    await slack.waitFor("files.completeUploadExternal", (call) => call.args.thread_ts === req.replyContext.threadTs);
  });

  test("a phishing file name in a failure is shown as text", async () => {
    const req = request();
    await delivery.fail(req, { message: `"[Sign in](http://evil.example) <!channel>.csv" could not be downloaded (HTTP 404).` });
    const texts = sent(req);
    expectNoPings(texts);
    expect(texts[0]).toContain("[Sign in](http://evil.example) @\u200bchannel.csv");
  });

  test("2,000 files with 200-character names give one bounded message", async () => {
    const req = request();
    const names = Array.from({ length: 2000 }, (_, i) => `${String(i).padStart(4, "0")}-<!channel>-${"n".repeat(200)}`.slice(0, 200));
    const listing = names.map((name) => `- \`/mnt/data/${name}\` (1 B, text/plain)`).join("\n");
    await delivery.answer(req, answer({ markdown: `Files:\n${listing}`, skippedFiles: names.map((name) => `${name} (at most 10 files are sent per answer)`) }));
    const posted = slack.callsTo("chat.postMessage").filter((call) => call.args.thread_ts === req.replyContext.threadTs);
    expect(posted).toHaveLength(1);
    const text = String(posted[0]!.args.text);
    expect(text.length).toBeLessThanOrEqual(SLACK_MAX_TEXT);
    expect(text).toContain("and 1,980 more");
    expect(text).toContain("full answer is in answer.md");
    expectNoPings([text]);
    await slack.waitFor("files.completeUploadExternal", (call) => call.args.thread_ts === req.replyContext.threadTs);
    const md = slack.uploads.find((upload) => upload.threadTs === req.replyContext.threadTs && upload.filename === "answer.md");
    expect(md?.bytes.toString()).toContain(names[1999]);
  });

  test("text that grows when escaped (3,000 '<') still fits one message", async () => {
    const req = request();
    await delivery.answer(req, answer({ markdown: "<".repeat(3000), code: [`print("${"<".repeat(1400)}")`] }));
    const text = String(slack.callsTo("chat.postMessage").find((call) => call.args.thread_ts === req.replyContext.threadTs)?.args.text);
    expect(text.length).toBeLessThanOrEqual(SLACK_MAX_TEXT);
    expect(text).not.toContain("<");
    await slack.waitFor("files.completeUploadExternal", (call) => call.args.thread_ts === req.replyContext.threadTs);
    const names = slack.uploads.filter((upload) => upload.threadTs === req.replyContext.threadTs).map((upload) => upload.filename);
    expect(names).toEqual(["answer.md", "code.py"]);
  });
});
