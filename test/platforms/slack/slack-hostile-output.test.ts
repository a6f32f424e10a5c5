import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, describe, expect, test } from "vitest";
import { useSlackBot } from "../../support/slack-bot-fixture.js";
import { appMention } from "../../support/stand-ins/slack-events.js";
import type { SlackStandIn } from "../../support/stand-ins/slack-web-api-stand-in.js";
import { answerIn, callsInThread, markdownOfBlocks, PLAIN_MASS_MENTION, SLACK_TOKEN, slackProblems, threadSettled } from "../../support/slack-answers.js";

/**
 * Attacks on the chat, end to end: Bolt, the queue, a real worker and sandbox, the Slack stand-in.
 * The sandbox prints mass mentions, names files with them and raises a phishing exception; a
 * thread holds 21 earlier files; a file URL points at another host.
 */
const CHANNEL = "C0HOSTILE1";
const ALICE = "U0ALICE001";

let foreign: Server;
let foreignUrl: string;
const foreignSeen: IncomingHttpHeaders[] = [];
let clock = 1_730_000_000;
const nextTs = () => `${++clock}.000300`;

async function startForeign(): Promise<void> {
  foreign = createServer((req, res) => {
    foreignSeen.push(req.headers);
    res.writeHead(200, { "content-type": "text/csv" }).end("stolen,0\n");
  });
  await new Promise<void>((resolve) => foreign.listen(0, "127.0.0.1", resolve));
  foreignUrl = `http://127.0.0.1:${(foreign.address() as AddressInfo).port}`;
}
afterAll(async () => {
  await new Promise((resolve) => foreign?.close(resolve));
});

const fixture = useSlackBot({}, startForeign);
const { pipeline } = fixture;

const send = fixture.send;
/** Slack escapes &, < and > in the text it sends. */
const slackEscaped = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
function mention(text: string, extra: { threadTs?: string; files?: ReturnType<SlackStandIn["addFile"]>[] } = {}) {
  const ts = nextTs();
  return { ts, event: appMention({ user: ALICE, text: `<@${fixture.slack.botUserId}> ${slackEscaped(text)}`, channel: CHANNEL, ts, ...extra }, fixture.slack.teamId) };
}
/** The answer's text in the thread, whichever way it came: the streamed markdown, or the status message's final mrkdwn text. */
async function finalText(threadTs: string, pattern: RegExp): Promise<string> {
  return (await answerIn(fixture.slack, threadTs, pattern)).text;
}
const python = (code: string) => ({ toolCalls: [{ name: "python", arguments: { code } }] });
type Body = { messages: Array<{ role: string; content?: unknown }> };
const lastTool = (body: Body) => String([...body.messages].reverse().find((message) => message.role === "tool")?.content ?? "");

describe("Slack, hostile sandbox output and thread files, end to end", () => {
  test("mass mentions from stdout and file names and a phishing exception never reach Slack; 2,000 long file names stay bounded", async () => {
    const code = [
      "lt, gt = chr(60), chr(62)",
      "for i in range(2000):",
      "    open(f'/mnt/data/{i:04d}-{lt}!channel{gt}-@everyone-' + 'n' * 170, 'w').close()",
      "print(f'{lt}!channel{gt} {lt}!here{gt} {lt}@U0ALICE001{gt} {lt}!subteam^S0123|@analysts{gt} @everyone')",
      "raise ValueError(f'# Admin notice\\n[Re-enter your password](http://evil.example/login) {lt}!channel{gt}')",
    ].join("\n");
    const { ts, event } = mention(`\`\`\`python\n${code}\n\`\`\``);
    await send(event);
    // Code run as written: the status message becomes the answer (markdown blocks, and mrkdwn text).
    const answer = await answerIn(fixture.slack, ts, /Admin notice/);
    expect(answer.via).toBe("update");
    const text = answer.text;
    expect(text.length).toBeLessThanOrEqual(3900);
    expect(text).not.toMatch(/<[!@#]/);
    expect(text).not.toContain("<http");
    expect(text).not.toMatch(/(^|[^\u200b])@(everyone|here|channel)\b/m);
    expect(text).toContain("@\u200bchannel @\u200bhere &lt;@U0ALICE001&gt; @analysts @\u200beveryone"); // shown as words
    expect(text).toContain("Not sent:");
    expect((text.slice(0, text.indexOf("# Admin notice")).match(/```/g) ?? []).length % 2).toBe(1);
    // The markdown blocks people see: bounded, the exception in a code block, the pings as words.
    const blocks = markdownOfBlocks(answer.call?.args.blocks);
    expect(blocks.length).toBeLessThanOrEqual(12_000);
    expect(blocks).toContain("@\u200beveryone");
    expect((blocks.slice(0, blocks.indexOf("# Admin notice")).match(/```/g) ?? []).length % 2).toBe(1);
    expect(JSON.stringify(answer.call?.args.blocks)).toContain("Not sent:");
    // Every field of every message call about the thread (text, blocks, attachments) is clean.
    expect(slackProblems(callsInThread(fixture.slack, ts))).toEqual([]);
    for (const call of fixture.slack.calls.filter((call) => call.args.thread_ts === ts || call.args.ts)) {
      expect(String(call.args.text ?? "")).not.toMatch(/<[!@]/);
    }
  });

  test("the model's answer, streamed: a hostile step output and DataFrame are defused in the tasks, the text and the table", async () => {
    const code = [
      "# Tally for <!channel> @everyone",
      "import pandas as pd",
      "lt, gt = chr(60), chr(62)",
      "print(f'{lt}!here{gt} {lt}@U0ALICE001{gt} @channel')",
      "pd.DataFrame({f'{lt}!channel{gt} who': [f'@everyone {lt}!subteam^S0123|@analysts{gt}', f'{lt}@U0ALICE001{gt}'], '@here n': [1, 2]})",
    ].join("\n");
    pipeline.llm.script(
      { content: "Let me tally it for @everyone.", ...python(code) },
      (body: Body) => ({ content: `one: ${lastTool(body).match(/stdout:\n([^\n]*)/)?.[1]} <!here>` }),
    );
    const { ts, event } = mention("tally it");
    await send(event);
    const answer = await answerIn(fixture.slack, ts, /tally it for/);
    expect(answer.via).toBe("stream");
    await threadSettled(fixture.slack, ts);
    const stream = answer.stream!;
    expect(stream.markdown).not.toMatch(SLACK_TOKEN);
    expect(stream.markdown).not.toMatch(PLAIN_MASS_MENTION);
    expect(stream.markdown).toContain("@\u200bhere");
    expect(stream.markdown).toContain("one: @\u200bhere <\u200b@U0ALICE001> @\u200bchannel @\u200bhere"); // the sandbox's stdout, quoted by the model
    // The step's task: title (the code's first comment), code and outcome defused.
    const tasks = stream.chunks.filter((chunk) => chunk.type === "task_update");
    // (a quick step's "running" state may be coalesced with its end by the stream's pace)
    expect(tasks.at(-1)?.status).toBe("complete");
    for (const task of tasks) expect(String(task.title)).toBe("Step 1: Tally for @\u200bchannel @\u200beveryone");
    expect(String(tasks.at(-1)?.details)).toContain("pd.DataFrame(");
    expect(String(tasks.at(-1)?.output)).toMatch(/^done · 2 × 2 table/);
    // The DataFrame: a table block in a message of its own, its CSV uploaded.
    const table = await fixture.slack.waitFor("chat.postMessage", (call) => call.args.thread_ts === ts && JSON.stringify(call.args.attachments ?? []).includes('"table"'));
    const cells = JSON.stringify(table.args.attachments);
    expect(cells).toContain("@\u200beveryone");
    expect(cells).not.toMatch(SLACK_TOKEN);
    expect(slackProblems(callsInThread(fixture.slack, ts))).toEqual([]);
    await fixture.slack.waitFor("files.completeUploadExternal", (call) => call.args.thread_ts === ts);
    expect(fixture.slack.uploads.some((upload) => upload.threadTs === ts && upload.filename.endsWith(".csv"))).toBe(true);
  });

  test("a thread with 21 earlier files: the newest 20 are taken, and the user and the model are told", async () => {
    const root = mention("```python\nprint('thread opened')\n```");
    await send(root.event);
    await finalText(root.ts, /thread opened/);
    for (let i = 1; i <= 21; i++) {
      const file = fixture.slack.addFile({ name: `f${String(i).padStart(2, "0")}.csv`, mimetype: "text/csv", content: `n\n${i}\n` });
      fixture.slack.addThreadMessage(root.ts, { user: ALICE, text: `file ${i}`, ts: nextTs(), files: [file] });
    }
    pipeline.llm.script(python("import os\nprint(sorted(f for f in os.listdir('/mnt/data') if f.startswith('f')))"), (body: Body) => ({ content: `Files: ${lastTool(body).match(/\[.*\]/)?.[0]}` }));
    const followUp = mention("what is in these files?", { threadTs: root.ts });
    await send(followUp.event);
    const told = await fixture.slack.waitFor("chat.postEphemeral", (call) => call.args.thread_ts === root.ts);
    expect(told.args.user).toBe(ALICE);
    expect(String(told.args.text)).toContain("1 older file in this thread was not attached: at most 20 files are taken per message, the newest.");
    // The model's answer streams into its own message.
    const answer = await answerIn(fixture.slack, root.ts, /^Files: \[/);
    expect(answer.via).toBe("stream");
    const listed = answer.markdown;
    expect(listed).not.toContain("'f01.csv'");
    for (let i = 2; i <= 21; i++) expect(listed).toContain(`'f${String(i).padStart(2, "0")}.csv'`);
    const asked = (pipeline.llm.requests.at(-2)!.body as Body).messages.at(-1);
    expect(String(asked?.content)).toContain("[1 older file in this thread was not attached");
  });

  test("a file whose URL points at another host is refused, and the token never leaves", async () => {
    const file = fixture.slack.addFile({ name: "report.csv", mimetype: "text/csv", content: "a\n" });
    const lure = { ...file, url_private_download: `${foreignUrl}/files-pri/${fixture.slack.teamId}-${file.id}/download/report.csv`, url_private: `${foreignUrl}/x` };
    const { ts, event } = mention("summarise this", { files: [lure] });
    await send(event);
    expect(await finalText(ts, /file servers/)).toContain("\"report.csv\" is not on Slack's file servers");
    expect(foreignSeen).toEqual([]);
  });
});
