import { describe, expect, test } from "vitest";
import { SLACK_TEST_SECRET, useSlackBot } from "../../support/slack-bot-fixture.js";
import { appMention, blockActions, postToSlackApp } from "../../support/stand-ins/slack-events.js";
import type { SlackStream } from "../../support/stand-ins/slack-web-api-stand-in.js";

const CHANNEL = "C0STREAMS1";
const ALICE = "U0ALICE001";
let clock = 1_720_000_000;
const nextTs = () => `${++clock}.000300`;
const fixture = useSlackBot();
const { pipeline } = fixture;
const python = (code: string) => ({ toolCalls: [{ name: "python", arguments: { code } }] });

function mention(text: string): string {
  const ts = nextTs();
  void fixture.send(appMention({ user: ALICE, text: `<@${fixture.slack.botUserId}> ${text}`, channel: CHANNEL, ts }, fixture.slack.teamId));
  return ts;
}

async function streamOf(threadTs: string, done = true): Promise<SlackStream> {
  for (let i = 0; i < 2400; i++) {
    const stream = fixture.slack.streams.find((candidate) => candidate.threadTs === threadTs);
    if (stream && (!done || stream.stopped)) return stream;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`no ${done ? "finished " : ""}stream in thread ${threadTs}`);
}

function gaps(times: number[]): number[] {
  return times.slice(1).map((time, i) => time - (times[i] ?? 0));
}

/** An answer of some length, in paragraphs, with markdown Slack renders natively. */
const ANSWER = Array.from({ length: 12 }, (_, i) => `**Finding ${i + 1}.** Revenue in region ${i + 1} grew by ${i * 3 + 2}% > plan, see [the report](https://example.com/r_(${i})).`).join("\n\n");

describe("Slack: answers streamed as they are written", () => {
  test("the answer arrives through chat.startStream / appendStream / stopStream and ends equal to the model's answer", async () => {
    pipeline.llm.script({ content: ANSWER, chunkDelayMs: 15 });
    const ts = mention("what grew?");
    const stream = await streamOf(ts);
    expect(stream.markdown.trim()).toBe(ANSWER);
    expect(stream).toMatchObject({ channel: CHANNEL, recipientUserId: ALICE, recipientTeamId: fixture.slack.teamId });
    // It really streamed (several appends), and never faster than one call per 500 ms on the message.
    expect(fixture.slack.callsTo("chat.appendStream").filter((call) => call.args.ts === stream.ts).length).toBeGreaterThanOrEqual(2);
    expect(Math.min(...gaps(stream.callTimes))).toBeGreaterThanOrEqual(500);
    // The status message (with its Stop button) goes once the answer says it all; feedback buttons end the answer.
    const status = await fixture.slack.waitFor("chat.postMessage", (call) => call.args.thread_ts === ts);
    await fixture.slack.waitFor("chat.delete", (call) => call.args.ts === status.response?.ts);
    expect(JSON.stringify(stream.stopArgs?.blocks ?? [])).toContain("feedback_buttons");
  });

  test("each code step shows as a task of the message while it runs, then its outcome", async () => {
    pipeline.llm.script({ content: "Let me compute it.", ...python("# Multiply the numbers\nimport time\ntime.sleep(1.5)\nx = 6 * 7\nprint(x)") }, { content: "It is **42**." });
    const ts = mention("6 times 7?");
    const stream = await streamOf(ts);
    const tasks = stream.chunks.filter((chunk) => chunk.type === "task_update");
    expect(tasks.map((task) => task.status)).toEqual(["in_progress", "complete"]);
    expect(tasks[0]).toMatchObject({ id: "step-1", title: "Step 1: Multiply the numbers" });
    expect(String(tasks[0]?.details)).toContain("x = 6 * 7");
    // The task shows while its code runs (Slack gets the running task before the code ends).
    expect(stream.chunks.indexOf(tasks[0]!)).toBeGreaterThanOrEqual(0);
    expect(String(tasks[1]?.output)).toMatch(/^done · 42/);
    expect(stream.markdown.trim()).toBe("Let me compute it.\n\nIt is **42**.");
  });

  test("mentions the model writes are defused even when split across deltas", async () => {
    pipeline.llm.script({ content: "Tell @everyone and <!channel> and <@U0BOSS0001>: done.", chunkDelayMs: 10 });
    const ts = mention("announce it");
    const stream = await streamOf(ts);
    expect(stream.markdown).not.toMatch(/(^|[^\u200b])@everyone|<!channel>|<@U0BOSS/);
    expect(stream.markdown).toContain("@\u200beveryone");
  });

  test("Stop while the answer streams ends the stream with a clear note", async () => {
    pipeline.llm.script({ content: ANSWER.repeat(3), chunkDelayMs: 60 });
    const ts = mention("write a lot");
    const stream = await streamOf(ts, false);
    const status = await fixture.slack.waitFor("chat.postMessage", (call) => call.args.thread_ts === ts);
    const button = (status.args.blocks as Array<{ type: string; elements?: Array<{ value: string }> }>).find((block) => block.type === "actions")?.elements?.[0];
    const response = await postToSlackApp(fixture.eventsUrl, blockActions({ user: ALICE, channel: CHANNEL, messageTs: String(status.response?.ts), actionId: "codebot_stop", value: button!.value, teamId: fixture.slack.teamId }), SLACK_TEST_SECRET, "interaction");
    expect(response.status).toBe(200);
    await streamOf(ts);
    expect(stream.markdown).toMatch(/Stopped: the request was cancelled\.$/);
    expect(stream.markdown.length).toBeLessThan(ANSWER.length * 3);
  });

  test("a DataFrame a step ends with becomes a table block, with the whole data attached as CSV", async () => {
    const code = "import pandas as pd\ndf = pd.DataFrame({'region': [f'r{i}' for i in range(30)], 'units': range(30)})\ndf";
    pipeline.llm.script(python(code), { content: "Here are the units per region." });
    const ts = mention("units per region as a table");
    await streamOf(ts);
    const tableMessage = await fixture.slack.waitFor("chat.postMessage", (call) => call.args.thread_ts === ts && Array.isArray(call.args.attachments) && call.args.attachments.length > 0);
    const blocks = (tableMessage.args.attachments as Array<{ blocks: Array<{ type: string; rows?: Array<Array<{ type: string; text: string }>> }> }>)[0]!.blocks;
    const table = blocks.find((block) => block.type === "table");
    expect(table?.rows?.[0]?.map((cell) => cell.text)).toEqual(["region", "units"]);
    expect(table?.rows?.[1]?.map((cell) => cell.text)).toEqual(["r0", "0"]);
    expect(table?.rows?.length).toBeLessThanOrEqual(21);
    expect(JSON.stringify(blocks)).toMatch(/of 30 rows/);
    await fixture.slack.waitFor("files.completeUploadExternal", (call) => call.args.thread_ts === ts);
    const csv = fixture.slack.uploads.find((upload) => upload.threadTs === ts && upload.filename === "table-1.csv");
    expect(csv?.bytes.toString()).toBe(["region,units", ...Array.from({ length: 30 }, (_, i) => `r${i},${i}`), ""].join("\n"));
  });

  test("code run as written that ends with a DataFrame gets the table in its answer message", async () => {
    const ts = mention("```python\nimport pandas as pd\npd.DataFrame({'a': [1, 2], 'b': ['x', 'y']})\n```");
    const status = await fixture.slack.waitFor("chat.postMessage", (call) => call.args.thread_ts === ts);
    const final = await fixture.slack.waitFor("chat.update", (call) => call.args.ts === status.response?.ts && Array.isArray(call.args.attachments) && call.args.attachments.length > 0);
    const table = (final.args.attachments as Array<{ blocks: Array<{ type: string; rows?: Array<Array<{ text: string }>> }> }>)[0]!.blocks.find((block) => block.type === "table");
    expect(table?.rows?.map((row) => row.map((cell) => cell.text))).toEqual([["a", "b"], ["1", "x"], ["2", "y"]]);
  });

  // Last: the worker then remembers that this workspace doesn't stream.
  test("where streaming is refused, the status message shows the answer as it is written, then the answer", async () => {
    fixture.slack.failAlways("chat.startStream", "feature_not_enabled");
    try {
      pipeline.llm.script({ content: ANSWER, chunkDelayMs: 25 });
      const ts = mention("what grew, again?");
      const status = await fixture.slack.waitFor("chat.postMessage", (call) => call.args.thread_ts === ts);
      const updates = () => fixture.slack.callsTo("chat.update").filter((call) => call.args.ts === status.response?.ts);
      const final = await fixture.slack.waitFor("chat.update", (call) => call.args.ts === status.response?.ts && !JSON.stringify(call.args.blocks).includes("codebot_stop"));
      const drafts = updates().filter((call) => JSON.stringify(call.args.blocks).includes("codebot_stop") && String(call.args.text).includes("Finding"));
      expect(drafts.length).toBeGreaterThanOrEqual(2);
      expect(Math.min(...gaps(updates().map((call) => call.at)))).toBeGreaterThanOrEqual(900);
      const markdown = (final.args.blocks as Array<{ type: string; text?: string }>).filter((block) => block.type === "markdown").map((block) => block.text).join("\n\n");
      expect(markdown.replace(/\u200b/g, "")).toBe(ANSWER);
      expect(fixture.slack.streams.some((stream) => stream.threadTs === ts)).toBe(false);
    } finally {
      fixture.slack.failAlways("chat.startStream", undefined);
    }
  });
});
