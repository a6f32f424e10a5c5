import { WebClient } from "@slack/web-api";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { executionMarkdown, noteMarkdown } from "../../../src/agent/execution-markdown.js";
import type { AnswerStep } from "../../../src/core/answer-events.js";
import { chatRequestSchema, type ChatRequest } from "../../../src/core/chat-request.js";
import type { Answer, AnswerTable } from "../../../src/core/reply.js";
import { createLogger } from "../../../src/log.js";
import { SLACK_MAX_TEXT, SlackDelivery } from "../../../src/platforms/slack/slack-delivery.js";
import { hostileResult, hostileTable, PHISHING } from "../../support/hostile-result.js";
import { answerIn, callsInThread, markdownOfBlocks, PLAIN_MASS_MENTION, previewProblems, SLACK_TOKEN, slackProblems, stringsIn } from "../../support/slack-answers.js";
import { startSlackStandIn, type SlackCall, type SlackStandIn } from "../../support/stand-ins/slack-web-api-stand-in.js";

/**
 * Everything the sandbox controls, sent through the real SlackDelivery and WebClient to the Slack
 * stand-in: what Slack would receive must ping nobody, link nowhere the model didn't, and stay bounded,
 * in every field (text, blocks, attachments, streamed chunks and tasks).
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

/** A request in a channel thread (where answers stream), or at a DM's top level (no thread: drafted in the status message). */
function request(where: { dm?: boolean } = {}): ChatRequest {
  const ts = `${++clock}.000100`;
  const channelId = where.dm ? `D0DM${clock}` : "C0DATATEAM";
  return chatRequestSchema.parse({
    eventId: `slack:T0TEAM0001:${channelId}:${ts}`,
    user: { id: "U0ALICE001", name: "alice" },
    conversation: { platform: "slack", workspaceId: "T0TEAM0001", channelId, threadId: ts },
    text: "hi",
    replyContext: where.dm ? {} : { threadTs: ts },
    receivedAt: Date.now(),
  });
}

const answer = (extra: Partial<Answer>): Answer => ({ markdown: "", code: [], steps: [], tables: [], images: [], files: [], skippedFiles: [], ...extra });

/** Code whose first comment (the task's title) and body carry the pings. */
const HOSTILE_CODE = `# Report for ${PINGS}\nprint("${PINGS}")\n# \`\`\` ${PINGS}`;
/** A step's one-line outcome carrying the pings and a phishing link. */
const HOSTILE_OUTCOME = `error · ValueError: [Re-enter your password](http://evil.example/login) ${PINGS}`;
const hostileStep = (step = 1): AnswerStep => ({ step, code: HOSTILE_CODE, status: "error", outcome: HOSTILE_OUTCOME, durationMs: 3 });
/** A DataFrame's table of pings, with its CSV under a name of pings. */
const hostileTables = (): AnswerTable[] => [{ step: 1, table: hostileTable(PINGS), csv: { name: `${PINGS}.csv`, mime: "text/csv", data: Buffer.from("a,b\n1,2\n") } }];

/** Every text (and block text) the bot posted or updated for this request's thread. */
function sent(req: ChatRequest): SlackCall[] {
  return callsInThread(slack, String(req.replyContext.threadTs)).filter((call) => call.method === "chat.postMessage" || call.method === "chat.update");
}

/** Every call about a DM's top-level request (its messages have no thread: they are found by channel). */
const inChannel = (req: ChatRequest) => slack.calls.filter((call) => call.args.channel === req.conversation.channelId || call.args.channel_id === req.conversation.channelId);

function expectClean(calls: SlackCall[]): void {
  expect(calls.length).toBeGreaterThan(0);
  expect(slackProblems(calls)).toEqual([]);
  // No message gets a link or media preview: Slack fetches nothing the text points at.
  expect(previewProblems(calls)).toEqual([]);
}

/** The cells of the table block a message carries in its attachments. */
function tableCells(call: SlackCall): string[] {
  const attachments = (call.args.attachments as Array<{ blocks?: Array<{ type: string; rows?: Array<Array<{ type: string; text: string }>> }> }>) ?? [];
  const table = attachments.flatMap((attachment) => attachment.blocks ?? []).find((block) => block.type === "table");
  expect(table).toBeDefined();
  return (table?.rows ?? []).flat().map((cell) => {
    expect(cell.type).toBe("raw_text");
    return cell.text;
  });
}

function expectTableDefused(cells: string[]): void {
  expect(cells.length).toBeGreaterThanOrEqual(4);
  for (const cell of cells) {
    expect(cell.length).toBeGreaterThan(0);
    expect(cell).not.toMatch(SLACK_TOKEN);
    expect(cell).not.toMatch(PLAIN_MASS_MENTION);
  }
  expect(cells.join(" ")).toContain("@\u200beveryone"); // shown, as words
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("Slack delivery of hostile sandbox output", () => {
  test("mass mentions in stdout, the value, an exception, notes, a table, steps, file names and status never reach Slack", async () => {
    const req = request();
    await delivery.status(req, { phase: "running", step: 1, text: `Running ${PINGS}` });
    const markdown = executionMarkdown(hostileResult(PINGS));
    const png = Buffer.from("89504e470d0a1a0a", "hex");
    // Code run as written (no facts): the status message becomes the answer.
    await delivery.answer(req, answer({
      markdown,
      code: [HOSTILE_CODE],
      steps: [hostileStep()],
      tables: hostileTables(),
      images: [{ name: "chart-1.png", mime: "image/png", data: png }],
      files: [{ name: `${PINGS}.csv`, mime: "text/csv", data: Buffer.from("a\n1\n") }],
      skippedFiles: [`${PINGS}.bin (over the size limit)`],
    }));
    const calls = sent(req);
    expect(calls.length).toBeGreaterThanOrEqual(2);
    expectClean(calls);
    const final = await answerIn(slack, String(req.replyContext.threadTs), /Admin notice/, 5000);
    expect(final.via).toBe("update");
    expect(final.text.length).toBeLessThanOrEqual(SLACK_MAX_TEXT);
    expect(final.text).toContain("@\u200bchannel @\u200bhere @\u200beveryone @group @analysts &lt;@U0ALICE001&gt;"); // shown, as text
    expect(final.text).toContain("# Admin notice"); // in a code block, not a heading
    expect(final.text).not.toContain("*Admin notice*");
    expect(final.text).toContain("Not sent:");
    // The markdown blocks people see: the exception inside a code block, the pings as words.
    const blocks = final.markdown;
    expect(blocks).toContain("@\u200beveryone");
    const admin = blocks.indexOf("# Admin notice");
    expect(admin).toBeGreaterThan(0);
    expect((blocks.slice(0, admin).match(/```/g) ?? []).length % 2).toBe(1);
    expect(JSON.stringify(final.call?.args.blocks)).toContain("Not sent:");
    // The table: its block in the attachments, every cell defused; code people ran isn't echoed back.
    expectTableDefused(tableCells(final.call!));
    expect(JSON.stringify(final.call?.args.blocks)).not.toContain("feedback_buttons");
    await slack.waitFor("files.completeUploadExternal", (call) => call.args.thread_ts === req.replyContext.threadTs);
    const names = slack.uploads.filter((upload) => upload.threadTs === req.replyContext.threadTs).map((upload) => upload.filename);
    // The chart, the file (its name made one clipped line) and the table's CSV.
    expect(names).toHaveLength(3);
    expect(names[0]).toBe("chart-1.png");
    expect(names[1]?.length).toBeLessThanOrEqual(100);
    expect(names[2]).toBe(`${PINGS}.csv`);
  });

  test("a phishing file name in a failure is shown as text", async () => {
    const req = request();
    await delivery.fail(req, { message: `"[Sign in](http://evil.example) <!channel>.csv" could not be downloaded (HTTP 404).` });
    const calls = sent(req);
    expectClean(calls);
    expect(String(calls[0]?.args.text)).toContain("[Sign in](http://evil.example) @\u200bchannel.csv");
  });

  test("2,000 files with 200-character names give one bounded message", async () => {
    const req = request();
    const names = Array.from({ length: 2000 }, (_, i) => `${String(i).padStart(4, "0")}-<!channel>-${"n".repeat(200)}`.slice(0, 200));
    const listing = names.map((name) => `- \`/mnt/data/${name}\` (1 B, text/plain)`).join("\n");
    await delivery.answer(req, answer({ markdown: `Files:\n${listing}`, skippedFiles: names.map((name) => `${name} (at most 10 files are sent per answer)`) }));
    const posted = slack.callsTo("chat.postMessage").filter((call) => call.args.thread_ts === req.replyContext.threadTs);
    expect(posted).toHaveLength(1);
    const text = String(posted[0]!.args.text);
    // The notification text is bounded (its end may be cut); the blocks people see say it all.
    expect(text.length).toBeLessThanOrEqual(SLACK_MAX_TEXT);
    expect(text).toContain("full answer is in answer.md");
    expect(text).toContain("Not sent:");
    const markdown = markdownOfBlocks(posted[0]!.args.blocks);
    expect(markdown.length).toBeLessThanOrEqual(12_000);
    expect(markdown).toContain("full answer is in answer.md");
    expect(JSON.stringify(posted[0]!.args.blocks)).toContain("and 1,980 more");
    expect(JSON.stringify(posted[0]!.args.blocks).length).toBeLessThan(20_000);
    expectClean(posted);
    await slack.waitFor("files.completeUploadExternal", (call) => call.args.thread_ts === req.replyContext.threadTs);
    const md = slack.uploads.find((upload) => upload.threadTs === req.replyContext.threadTs && upload.filename === "answer.md");
    expect(md?.bytes.toString()).toContain(names[1999]);
  });

  test("text that grows when escaped (3,500 '<') still fits one message", async () => {
    const req = request();
    const code = `print("${"<".repeat(1400)}")`;
    await delivery.answer(req, answer({ markdown: "<".repeat(3500), code: [code], steps: [{ step: 1, code, status: "ok", outcome: "done · <<<<", durationMs: 40 }], facts: { model: "gpt-test", steps: 1 } }));
    const posted = slack.callsTo("chat.postMessage").find((call) => call.args.thread_ts === req.replyContext.threadTs);
    const text = String(posted?.args.text);
    expect(text.length).toBeLessThanOrEqual(SLACK_MAX_TEXT);
    expect(text).not.toContain("<");
    expect(markdownOfBlocks(posted?.args.blocks).length).toBeLessThanOrEqual(12_000);
    expectClean([posted!]);
    await slack.waitFor("files.completeUploadExternal", (call) => call.args.thread_ts === req.replyContext.threadTs);
    const names = slack.uploads.filter((upload) => upload.threadTs === req.replyContext.threadTs).map((upload) => upload.filename);
    expect(names).toEqual(["answer.md", "code.py"]);
  });

  test("a hostile answer streamed as it is written: text deltas, steps, the table and the end are defused in every chunk", async () => {
    const req = request();
    const threadTs = String(req.replyContext.threadTs);
    await delivery.status(req, { phase: "thinking", text: "Thinking…" });
    // Mentions split across deltas, paced so that each part could go out in an append of its own.
    const deltas = ["Tell @every", "one and <!chan", "nel> and <@U0ALICE001> and <!subteam^S0123|@analysts>: ", `here is ${PINGS}.\n\n`];
    for (const delta of deltas) {
      await delivery.event(req, { type: "text", delta });
      await pause(700);
    }
    await delivery.event(req, { type: "step-started", step: 1, code: HOSTILE_CODE });
    await pause(700);
    await delivery.event(req, { type: "step-finished", step: 1, status: "error", outcome: HOSTILE_OUTCOME, durationMs: 3 });
    await delivery.event(req, { type: "text", delta: "Done, @here" });
    const streamed = `${deltas.join("")}Done, @here`;
    await delivery.answer(req, answer({
      // What the answer adds after the streamed words: a note, as the turn writes one (noteMarkdown).
      markdown: `${streamed}\n\n${noteMarkdown(`${PINGS} (a note the answer adds)`)}`,
      code: [HOSTILE_CODE],
      steps: [hostileStep()],
      tables: hostileTables(),
      facts: { model: "gpt-test", steps: 1 },
      skippedFiles: [`${PINGS}.bin (over the size limit)`],
    }));

    const stream = slack.streams.find((candidate) => candidate.threadTs === threadTs);
    expect(stream?.stopped).toBe(true);
    // It really streamed in parts: the split mentions had their chance to go out split.
    expect(slack.callsTo("chat.appendStream").filter((call) => call.args.ts === stream?.ts).length).toBeGreaterThanOrEqual(2);
    // Every call about the thread is clean: the status, stream start/appends/stop, the table, all fields.
    const calls = callsInThread(slack, threadTs);
    expect(calls.map((call) => call.method)).toEqual(expect.arrayContaining(["chat.postMessage", "chat.startStream", "chat.appendStream", "chat.stopStream", "chat.delete"]));
    expectClean(calls);
    // What Slack shows is the chunks put together: clean as a whole too, the mentions shown as words.
    expect(stream!.markdown).not.toMatch(SLACK_TOKEN);
    expect(stream!.markdown).not.toMatch(PLAIN_MASS_MENTION);
    for (const chunk of stream!.chunks) for (const { text } of stringsIn(chunk)) expect(text).not.toMatch(PLAIN_MASS_MENTION);
    expect(stream!.markdown).toContain("Tell @\u200beveryone and @\u200bchannel and <\u200b@U0ALICE001> and @analysts");
    expect(stream!.markdown).toContain("Done, @\u200bhere");
    expect(stream!.markdown).toContain("(a note the answer adds)");
    expect(stream!.markdown).toContain("Not sent:");
    // The step as a task: its title, code and outcome defused.
    const tasks = stream!.chunks.filter((chunk) => chunk.type === "task_update");
    expect(tasks.map((task) => task.status)).toEqual(["in_progress", "error"]);
    expect(String(tasks[0]?.title)).toMatch(/^Step 1: Report for @\u200bchannel/);
    expect(String(tasks[0]?.details)).toContain("print(");
    expect(String(tasks[1]?.output)).toContain("@\u200beveryone");
    for (const task of tasks) expect(String(task.title).length).toBeLessThanOrEqual(100);
    // Feedback ends the streamed answer; the status message is gone; the table comes in a message of its own.
    expect(JSON.stringify(stream!.stopArgs?.blocks ?? [])).toContain("feedback_buttons");
    const status = slack.callsTo("chat.postMessage").find((call) => call.args.thread_ts === threadTs && JSON.stringify(call.args.blocks).includes("codebot_stop"));
    expect(slack.callsTo("chat.delete").some((call) => call.args.ts === status?.response?.ts)).toBe(true);
    const table = slack.callsTo("chat.postMessage").find((call) => call.args.thread_ts === threadTs && call.args.attachments && JSON.stringify(call.args.attachments).includes('"table"'));
    expectTableDefused(tableCells(table!));
    await slack.waitFor("files.completeUploadExternal", (call) => call.args.thread_ts === threadTs);
    expect(slack.uploads.filter((upload) => upload.threadTs === threadTs).map((upload) => upload.filename)).toEqual([`${PINGS}.csv`]);
  });

  test("a misleading link streamed in parts is shown as the final answer shows it: its label as text, the real address beside it", async () => {
    const req = request();
    const threadTs = String(req.replyContext.threadTs);
    await delivery.status(req, { phase: "thinking", text: "Thinking…" });
    // The label in one append, the destination in the next: joined, Slack would make it a link.
    const deltas = ["Please log in at [https://bank.exa", "mple/login](https://evil.exa", "mple/phish?d=secret) and see ![https://bank.example/logo](https://evil.example/p.png", ") or `[https://bank.example](https://evil.example)` (code).\n\n", "```\n[https://bank.example](https://evil.example/in-code)\n```\nDone."];
    for (const delta of deltas) {
      await delivery.event(req, { type: "text", delta });
      await pause(700);
    }
    await delivery.answer(req, answer({ markdown: deltas.join(""), code: [], facts: { model: "gpt-test", steps: 0 } }));
    const stream = slack.streams.find((candidate) => candidate.threadTs === threadTs);
    expect(stream?.stopped).toBe(true);
    expect(slack.callsTo("chat.appendStream").filter((call) => call.args.ts === stream?.ts).length).toBeGreaterThanOrEqual(2);
    const markdown = stream!.markdown;
    expect(markdown).toContain("Please log in at https://bank.example/login ([https://evil.example/phish?d=secret](https://evil.example/phish?d=secret))");
    expect(markdown).toContain("https://bank.example/logo ([https://evil.example/p.png](https://evil.example/p.png))");
    const prose = markdown.replace(/```[\s\S]*?```/g, "").replace(/`[^`\n]*`/g, "");
    expect(prose).not.toMatch(/\[https:\/\/bank\.example[^\]]*\]\(https:\/\/evil/); // outside code, never a disguised link
    expect(markdown).toContain("`[https://bank.example](https://evil.example)`"); // code stays code
    expect(markdown).toContain("```\n[https://bank.example](https://evil.example/in-code)\n```");
    // No piece ended inside the link: each append's text stands as the final answer's rules made it.
    for (const chunk of stream!.chunks) expect(String(chunk.text ?? "")).not.toMatch(/\[https:\/\/bank\.exa$/);
    expectClean(callsInThread(slack, threadTs));
  });

  test("where there is no thread to stream in, the drafts and the answer in the status message are defused too", async () => {
    const req = request({ dm: true });
    await delivery.status(req, { phase: "thinking", text: "Thinking…" });
    for (const delta of ["Tell @every", "one and <!chan", "nel> now. ", `${PINGS} `]) {
      await delivery.event(req, { type: "text", delta });
      await pause(1100);
    }
    await delivery.event(req, { type: "step-started", step: 1, code: HOSTILE_CODE });
    await pause(1100);
    await delivery.event(req, { type: "step-finished", step: 1, status: "error", outcome: HOSTILE_OUTCOME, durationMs: 3 });
    // The model quotes the sandbox's phishing text in a code block: it stays code.
    const markdown = `Tell @everyone and <!channel> now. ${PINGS}\n\n\`\`\`\n${PHISHING}\n\`\`\``;
    await delivery.answer(req, answer({ markdown, code: [HOSTILE_CODE], steps: [hostileStep()], tables: hostileTables(), facts: { model: "gpt-test", steps: 1 } }));

    expect(slack.streams.some((stream) => stream.channel === req.conversation.channelId)).toBe(false);
    const calls = inChannel(req);
    const updates = calls.filter((call) => call.method === "chat.update");
    const drafts = updates.filter((call) => JSON.stringify(call.args.blocks).includes("codebot_stop"));
    expect(drafts.length).toBeGreaterThanOrEqual(2);
    expectClean(calls);
    expect(drafts.some((call) => String(call.args.text).includes("Tell @\u200beveryone"))).toBe(true);
    expect(drafts.some((call) => String(call.args.text).includes("Step 1"))).toBe(true);
    const final = updates.at(-1)!;
    expect(JSON.stringify(final.args.blocks)).not.toContain("codebot_stop");
    expect(String(final.args.text)).toContain("Tell @\u200beveryone and @\u200bchannel now.");
    // The answer in markdown blocks, the step line, the table, the feedback buttons: all defused.
    const blocks = markdownOfBlocks(final.args.blocks);
    expect(blocks).toContain("@\u200beveryone");
    const admin = blocks.indexOf("# Admin notice");
    expect(admin).toBeGreaterThan(0);
    expect((blocks.slice(0, admin).match(/```/g) ?? []).length % 2).toBe(1); // in a code block, not a heading
    expect(JSON.stringify(final.args.blocks)).toContain("Step 1");
    expect(JSON.stringify(final.args.blocks)).toContain("feedback_buttons");
    expectTableDefused(tableCells(final));
    await slack.waitFor("files.completeUploadExternal", (call) => call.args.channel_id === req.conversation.channelId);
    expect(slack.uploads.filter((upload) => upload.channelId === req.conversation.channelId).map((upload) => upload.filename)).toEqual([`${PINGS}.csv`, "code.py"]);
  });
});
