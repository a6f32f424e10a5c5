import { describe, expect, test } from "vitest";
import { SLACK_TEST_SECRET, useSlackBot } from "../../support/slack-bot-fixture.js";
import { appMention, blockActions, directMessage, postToSlackApp } from "../../support/stand-ins/slack-events.js";
import type { SlackStandIn } from "../../support/stand-ins/slack-web-api-stand-in.js";
import { answerIn, callsInThread, markdownOfBlocks, slackProblems, threadSettled } from "../../support/slack-answers.js";

const CHANNEL = "C0DATATEAM";
const ALICE = "U0ALICE001";

let clock = 1_710_000_000;
const nextTs = () => `${++clock}.000200`;
const fixture = useSlackBot({ SANDBOX_MAX_FILE_MB: "1" });
const { pipeline } = fixture;

const send = fixture.send;
const mention = (text: string, extra: { threadTs?: string; files?: ReturnType<SlackStandIn["addFile"]>[] } = {}) => {
  const ts = nextTs();
  return { ts, event: appMention({ user: ALICE, text: `<@${fixture.slack.botUserId}> ${text}`, channel: CHANNEL, ts, ...extra }, fixture.slack.teamId) };
};
/** The answer's text in the thread, whichever way it came: the streamed markdown, or the status message's final mrkdwn text. */
async function finalText(threadTs: string, pattern: RegExp): Promise<string> {
  return (await answerIn(fixture.slack, threadTs, pattern, 60_000)).text;
}
/** The streamed answer of the model in the thread (its own message, then the status message is deleted). */
async function streamedAnswer(threadTs: string, pattern: RegExp) {
  const answer = await answerIn(fixture.slack, threadTs, pattern, 60_000);
  expect(answer.via).toBe("stream");
  await threadSettled(fixture.slack, threadTs);
  return answer.stream!;
}

const python = (code: string) => ({ toolCalls: [{ name: "python", arguments: { code } }] });
type Body = { messages: Array<{ role: string; content?: unknown }> };
const lastTool = (body: Body) => String([...body.messages].reverse().find((message) => message.role === "tool")?.content ?? "");

describe("Slack, end to end through Bolt, the queue, a worker and a sandbox", () => {
  test("a mention with a CSV gets a threaded answer and an uploaded chart", async () => {
    const csv = fixture.slack.addFile({ name: "sales q3.csv", mimetype: "text/csv", content: "region,amount\nnorth,10\nnorth,30\nsouth,5\n" });
    pipeline.llm.script(
      python("import pandas as pd, matplotlib.pyplot as plt\ndf = pd.read_csv('/mnt/data/sales q3.csv')\ntotals = df.groupby('region').amount.sum()\ntotals.plot.bar()\nplt.show()\nprint(totals.to_dict())"),
      (body: Body) => ({ content: `**Totals**: ${lastTool(body).match(/\{.*\}/)?.[0]}` }),
    );
    const { ts, event } = mention("total per region? plot it", { files: [csv] });
    expect((await send(event)).status).toBe(200);
    await fixture.slack.waitFor("reactions.add", (call) => call.args.timestamp === ts && call.args.name === "eyes");
    const answer = await streamedAnswer(ts, /Totals/);
    expect(answer.markdown).toContain("**Totals**: {'north': 40, 'south': 5}");
    // The code step as a task of the message, feedback buttons at its end, the status message deleted.
    const tasks = answer.chunks.filter((chunk) => chunk.type === "task_update");
    expect(tasks.map((task) => task.status)).toEqual(["in_progress", "complete"]);
    expect(String(tasks[0]?.details)).toContain("df.groupby('region')");
    expect(JSON.stringify(answer.stopArgs?.blocks ?? [])).toContain("feedback_buttons");
    const status = await fixture.slack.waitFor("chat.postMessage", (call) => call.args.thread_ts === ts);
    await fixture.slack.waitFor("chat.delete", (call) => call.args.ts === status.response?.ts);
    const upload = await fixture.slack.waitFor("files.completeUploadExternal", (call) => call.args.thread_ts === ts);
    expect(upload.args.channel_id).toBe(CHANNEL);
    const png = fixture.slack.uploads.find((file) => file.threadTs === ts && file.filename === "chart-1.png");
    expect(png?.bytes.subarray(0, 8).toString("hex")).toBe("89504e470d0a1a0a");
    expect(fixture.slack.downloads.some((download) => download.authorized && download.path.endsWith("sales%20q3.csv"))).toBe(true);
    const firstUser = (pipeline.llm.requests.at(-2)!.body as Body).messages.at(-1);
    expect(String(firstUser?.content)).toMatch(/^ada-U0ALICE001: total per region\? plot it/);

    // A follow-up in the thread, by mention, reuses the session.
    pipeline.llm.script(python("print(int(totals.sum()))"), (body: Body) => ({ content: `Grand total ${lastTool(body).match(/stdout:\n(\d+)/)?.[1]}` }));
    const followUp = mention("and the grand total?", { threadTs: ts });
    await send(followUp.event);
    expect((await streamedAnswer(ts, /Grand total 45/)).markdown.trim()).toBe("Grand total 45");
    // One status message per turn (each deleted once its answer streamed), one streamed answer per turn.
    expect(fixture.slack.callsTo("chat.postMessage").filter((call) => call.args.thread_ts === ts).length).toBe(2);
    expect(fixture.slack.streams.filter((stream) => stream.threadTs === ts).length).toBe(2);
  });

  test("files posted earlier in the thread, without a mention, reach the session at the next mention", async () => {
    const root = mention("```python\nprint('thread opened')\n```");
    await send(root.event);
    await finalText(root.ts, /thread opened/);
    const notes = fixture.slack.addFile({ name: "notes.txt", mimetype: "text/plain", content: "remember the north region" });
    fixture.slack.addThreadMessage(root.ts, { user: ALICE, text: "here are my notes", ts: nextTs(), files: [notes] });
    const followUp = mention("```python\nprint(open('/mnt/data/notes.txt').read())\n```", { threadTs: root.ts });
    await send(followUp.event);
    await fixture.slack.waitFor("chat.update", (call) => String(call.args.text).includes("remember the north region"));
    // Code run as written: the status message becomes the answer, in a markdown block (and mrkdwn text for notifications).
    const answer = await answerIn(fixture.slack, root.ts, /remember the north region/);
    expect(answer.via).toBe("update");
    expect(markdownOfBlocks(answer.call?.args.blocks)).toBe("```\nremember the north region\n```");
    expect(JSON.stringify(answer.call?.args.blocks)).not.toContain("feedback_buttons");
  });

  test("a DM works without a mention and is answered in the DM", async () => {
    const ts = nextTs();
    await send(directMessage({ user: ALICE, text: "```python\nprint('hello from a DM')\n```", channel: "D0ALICEDM1", ts }, fixture.slack.teamId));
    const update = await fixture.slack.waitFor("chat.update", (call) => String(call.args.text).includes("hello from a DM"));
    expect(update.args.channel).toBe("D0ALICEDM1");
    const post = fixture.slack.callsTo("chat.postMessage").find((call) => call.args.channel === "D0ALICEDM1");
    expect(post?.args.thread_ts).toBeUndefined();
  });

  test("a retried event (X-Slack-Retry-Num) runs once", async () => {
    const { ts, event } = mention("```python\nprint('only once')\n```");
    await send(event);
    await send(event, { retryNum: 1 });
    await finalText(ts, /only once/);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(fixture.slack.callsTo("chat.postMessage").filter((call) => call.args.thread_ts === ts)).toHaveLength(1);
    expect(fixture.slack.callsTo("reactions.add").filter((call) => call.args.timestamp === ts)).toHaveLength(1);
  });

  test("Stop cancels a long-running execution", async () => {
    const { ts, event } = mention("```python\nimport time\ntime.sleep(120)\n```");
    await send(event);
    const status = await fixture.slack.waitFor("chat.postMessage", (call) => call.args.thread_ts === ts);
    const running = await fixture.slack.waitFor("chat.update", (call) => call.args.ts === status.response?.ts && String(call.args.text).includes("Running your code"));
    const button = (running.args.blocks as Array<{ type: string; elements?: Array<{ action_id: string; value: string }> }>).find((block) => block.type === "actions")?.elements?.[0];
    expect(button?.action_id).toBe("codebot_stop");
    const clicked = Date.now();
    const response = await postToSlackApp(fixture.eventsUrl, blockActions({ user: ALICE, channel: CHANNEL, messageTs: String(running.args.ts), actionId: "codebot_stop", value: button!.value, teamId: fixture.slack.teamId }), SLACK_TEST_SECRET, "interaction");
    expect(response.status).toBe(200);
    expect(await finalText(ts, /cancelled/)).toContain("Stopped: the request was cancelled.");
    expect(Date.now() - clicked).toBeLessThan(10_000);
  });

  test("an oversized file gets a clear reply, and the next request still works", async () => {
    const big = fixture.slack.addFile({ name: "huge.csv", mimetype: "text/csv", content: Buffer.alloc(2 * 1024 * 1024, "a") });
    const { ts, event } = mention("analyse this", { files: [big] });
    await send(event);
    expect(await finalText(ts, /limit/)).toMatch(/"huge.csv" is 2.0 MB, over the 1.0 MB limit for one file. Nothing was run./);
    const next = mention("```python\nprint('still fine')\n```");
    await send(next.event);
    expect(await finalText(next.ts, /still fine/)).toContain("still fine");
  });

  test("long code comes as a code.py snippet, a long answer as answer.md", async () => {
    const code = Array.from({ length: 60 }, (_, i) => `value_${i} = ${i} ** 2  # a line of a longer analysis`).join("\n");
    const report = `## Report\n\n${"A finding worth a sentence. ".repeat(400)}`;
    expect(report.length).toBeGreaterThan(10_000);
    pipeline.llm.script(python(`${code}\nprint('computed')`), { content: report });
    const { ts, event } = mention("write me a long report");
    await send(event);
    // The stream stops at 10,000 characters and says where the rest is.
    const answer = await streamedAnswer(ts, /answer\.md below/);
    expect(answer.markdown.length).toBeLessThanOrEqual(12_000);
    expect(answer.markdown.startsWith(report.slice(0, 5000))).toBe(true);
    expect(answer.markdown).not.toContain(report);
    // The step's task shows the code clipped; the whole code is code.py.
    const task = answer.chunks.find((chunk) => chunk.type === "task_update");
    expect(String(task?.details).length).toBeLessThanOrEqual(1501);
    await fixture.slack.waitFor("files.completeUploadExternal", (call) => call.args.thread_ts === ts);
    const names = fixture.slack.uploads.filter((upload) => upload.threadTs === ts).map((upload) => upload.filename);
    expect(names).toEqual(expect.arrayContaining(["answer.md", "code.py"]));
    expect(fixture.slack.uploads.find((upload) => upload.threadTs === ts && upload.filename === "code.py")?.bytes.toString()).toContain("value_59 = 59 ** 2");
    expect(fixture.slack.uploads.find((upload) => upload.threadTs === ts && upload.filename === "answer.md")?.bytes.toString()).toBe(report.trim());
  });

  test("the model's text never pings a crowd", async () => {
    pipeline.llm.script({ content: "Done! <!channel> <!here|here> @everyone <!subteam^S0123|@analysts> look" });
    const { ts, event } = mention("summarise");
    await send(event);
    const text = (await streamedAnswer(ts, /Done!/)).markdown;
    expect(text).not.toMatch(/<!channel>|<!here|<!subteam|@everyone/);
    expect(text).toContain("@\u200bchannel");
    expect(slackProblems(callsInThread(fixture.slack, ts))).toEqual([]);
  });

  test("requests with a bad or stale signature are rejected and never run", async () => {
    const before = fixture.slack.calls.length;
    const { event } = mention("```python\nprint('forged')\n```");
    expect((await send(event, { badSignature: true })).status).toBe(401);
    expect((await send(event, { timestamp: Math.floor(Date.now() / 1000) - 600 })).status).toBe(401);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(fixture.slack.calls.slice(before).filter((call) => call.method !== "auth.test")).toEqual([]);
  });
});
