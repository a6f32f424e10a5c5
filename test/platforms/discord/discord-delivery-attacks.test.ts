import { MessageFlags, REST } from "discord.js";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { executionMarkdown } from "../../../src/agent/execution-markdown.js";
import { chatRequestSchema, type ChatRequest } from "../../../src/core/chat-request.js";
import type { AnswerStep } from "../../../src/core/answer-events.js";
import type { Answer, AnswerTable } from "../../../src/core/reply.js";
import { createLogger } from "../../../src/log.js";
import { DiscordDelivery, MAX_TEXT_MESSAGES } from "../../../src/platforms/discord/discord-delivery.js";
import { snowflake } from "../../support/stand-ins/discord-payloads.js";
import { startDiscordStandIn, type DiscordStandIn, type RecordedRestCall } from "../../support/stand-ins/discord-stand-in.js";
import { hostileResult, hostileTable, PHISHING } from "../../support/hostile-result.js";

/**
 * Everything the sandbox controls, sent through the real DiscordDelivery and discord.js REST client
 * to the Discord stand-in: what Discord would receive must ping nobody and stay within a few messages.
 */
const PINGS = "@everyone @here <@123456789012345678> <@!123456789012345678> <@&123456789012345678> hi@everyone";

let discord: DiscordStandIn;
let delivery: DiscordDelivery;

beforeAll(async () => {
  discord = await startDiscordStandIn();
  delivery = new DiscordDelivery(new REST({ api: discord.apiUrl }).setToken(discord.token), 1024 * 1024, createLogger("silent"));
});

afterAll(async () => {
  await discord?.close();
});

function request(): ChatRequest {
  const thread = snowflake();
  return chatRequestSchema.parse({
    eventId: `discord:${thread}`,
    user: { id: "42", name: "alice" },
    conversation: { platform: "discord", workspaceId: discord.guildId, channelId: thread, threadId: thread },
    text: "hi",
    receivedAt: Date.now(),
  });
}

const answer = (extra: Partial<Answer>): Answer => ({ markdown: "", code: [], steps: [], tables: [], images: [], files: [], skippedFiles: [], ...extra });

/** Code whose every line carries the pings (and a fence that would close a code block). */
const HOSTILE_CODE = `# Report for ${PINGS}\nprint("${PINGS}")\n# \`\`\` ${PINGS}`;
/** A step's one-line outcome carrying the pings and a phishing link. */
const HOSTILE_OUTCOME = `error · ValueError: [Re-enter your password](http://evil.example/login) **urgent** ${PINGS}`;
const hostileStep = (): AnswerStep => ({ step: 1, code: HOSTILE_CODE, status: "error", outcome: HOSTILE_OUTCOME, durationMs: 3 });
/** A DataFrame's table of pings, with its CSV under a name of pings. */
const hostileTables = (): AnswerTable[] => [{ step: 1, table: hostileTable(PINGS), csv: { name: `${PINGS}.csv`, mime: "text/csv", data: Buffer.from("a,b\n1,2\n") } }];
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The bot's messages (posted or edited) in the request's channel. */
const messages = (req: ChatRequest): RecordedRestCall[] =>
  discord.calls.filter((call) => call.path.startsWith(`/channels/${req.conversation.channelId}/messages`) && call.status > 0 && call.status < 300);
const texts = (req: ChatRequest) => messages(req).map((call) => String(call.body?.content ?? ""));

/** Every string of a value, however deep. */
const strings = (value: unknown): string[] =>
  typeof value === "string" ? [value] : Array.isArray(value) ? value.flatMap(strings) : value && typeof value === "object" ? Object.values(value).flatMap(strings) : [];

function expectNoPings(req: ChatRequest): void {
  const calls = messages(req);
  expect(calls.length).toBeGreaterThan(0);
  for (const call of calls) {
    // The text and the components (buttons); attachments' file names ping nobody.
    for (const text of strings([call.body?.content, call.body?.components, call.body?.embeds])) {
      expect(text).not.toMatch(/@(everyone|here)/);
      expect(text).not.toMatch(/<@[!&]?\d/);
    }
    expect(call.body?.allowed_mentions).toEqual({ parse: [] });
    // No link of the answer gets a preview: every message and edit suppresses embeds.
    expect(call.body?.flags).toBe(MessageFlags.SuppressEmbeds);
  }
}

/** The monospace table in the answer: its rows defused, no backtick that could end its code block. */
function expectTableDefused(all: string): void {
  const table = /```\n([^`]*?\n-+[- ]*\n[\s\S]*?)\n```/.exec(all)?.[1];
  expect(table).toBeDefined();
  expect(table).toContain("@\u200beveryone"); // shown, as words
  expect(table).not.toMatch(/@(everyone|here)|<@[!&]?\d/);
}

describe("Discord delivery of hostile sandbox output", () => {
  test("mass mentions in stdout, the value, an exception, notes, a table, steps, code, file names and status never reach Discord", async () => {
    const req = request();
    await delivery.status(req, { phase: "running", step: 1, text: `Running ${PINGS}` });
    const markdown = executionMarkdown(hostileResult(PINGS));
    await delivery.answer(req, answer({
      markdown,
      code: [HOSTILE_CODE],
      steps: [hostileStep()],
      tables: hostileTables(),
      facts: { model: "gpt-test", steps: 1 },
      files: [{ name: `${PINGS}.csv`, mime: "text/csv", data: Buffer.from("a\n1\n") }, { name: `${PINGS}.bin`, mime: "application/octet-stream", data: Buffer.alloc(2 * 1024 * 1024) }],
      skippedFiles: [`[click](http://evil.example) <@&1> @everyone.txt (over the size limit)`],
    }));
    expectNoPings(req);
    const all = texts(req).join("\n");
    const admin = all.indexOf("# Admin notice");
    expect(admin).toBeGreaterThan(0);
    expect((all.slice(0, admin).match(/```/g) ?? []).length % 2).toBe(1); // inside a code block
    expect(all).toMatch(/Not sent: .*over Discord's 1 MB upload limit/);
    expect(all).toContain("\\[click](http://evil.example)"); // a note's markdown link is escaped
    expectTableDefused(all);
    // The step's line: its outcome as text (no link, no bold), pings defused.
    const stepLine = all.split("\n").find((line) => line.startsWith("-# ❌ Step 1"));
    expect(stepLine).toContain("\\[Re-enter your password](http://evil.example/login)");
    expect(stepLine).toContain("\\*\\*urgent\\*\\*");
    // The model's code, shown in a code block its own fences can't close.
    const code = all.indexOf("Code that ran:");
    expect(code).toBeGreaterThan(0);
    expect((all.slice(code).match(/^```/gm) ?? []).length).toBe(2);
    // The last message carries the feedback buttons; the files (and the table's CSV) are attached.
    const last = messages(req).filter((call) => call.body?.content).at(-1);
    expect(JSON.stringify(last?.body?.components)).toContain("codebot_fb:");
    const attached = messages(req).flatMap((call) => call.files).map((file) => file.name);
    expect(attached).toHaveLength(2);
    expect(attached.every((name) => name.endsWith(".csv"))).toBe(true);
  });

  test("a hostile answer shown as it is written: every draft edit and the answer are defused", async () => {
    const req = request();
    await delivery.status(req, { phase: "thinking", text: "Thinking…" });
    // Mentions split across deltas, paced so that each part could go out in an edit of its own.
    const deltas = ["Tell @every", "one and <@1234567890", "12345678> and @he", "re: ", `${PINGS}.\n\n`];
    for (const delta of deltas) {
      await delivery.event(req, { type: "text", delta });
      await pause(1300);
    }
    await delivery.event(req, { type: "step-started", step: 1, code: HOSTILE_CODE });
    await pause(1300);
    await delivery.event(req, { type: "step-finished", step: 1, status: "error", outcome: HOSTILE_OUTCOME, durationMs: 3 });
    await pause(1300);
    await delivery.event(req, { type: "text", delta: "Done, @everyone" });
    await delivery.answer(req, answer({
      markdown: `${deltas.join("")}Done, @everyone`,
      code: [HOSTILE_CODE],
      steps: [hostileStep()],
      tables: hostileTables(),
      facts: { model: "gpt-test", steps: 1 },
    }));
    expectNoPings(req);
    const edits = messages(req).filter((call) => call.method === "PATCH");
    const drafts = edits.filter((call) => JSON.stringify(call.body?.components ?? []).includes("codebot_stop"));
    expect(drafts.length).toBeGreaterThanOrEqual(4);
    expect(drafts.some((call) => String(call.body?.content).includes("Tell @\u200beveryone"))).toBe(true);
    expect(drafts.some((call) => String(call.body?.content).includes("-# ❌ Step 1"))).toBe(true);
    const times = edits.map((call) => call.at);
    expect(Math.min(...times.slice(1).map((time, i) => time - (times[i] ?? 0)))).toBeGreaterThanOrEqual(1000);
    // The answer's edit: no Stop button, the feedback buttons, the table and the step line, all defused.
    const final = edits.at(-1)!;
    expect(JSON.stringify(final.body?.components)).not.toContain("codebot_stop");
    expect(JSON.stringify(final.body?.components)).toContain("codebot_fb:");
    const content = String(final.body?.content);
    expect(content).toContain("Tell @\u200beveryone and <@\u200b123456789012345678> and @\u200bhere");
    expect(content).toContain("Done, @\u200beveryone");
    expectTableDefused(content);
    expect(content).toContain("-# ❌ Step 1");
  });

  test("the model's link to an attacker's server: the drafts, the final edit and every part of the answer suppress embeds", async () => {
    const req = request();
    const leak = "https://attacker.example/?d=secret-value";
    await delivery.status(req, { phase: "thinking", text: "Thinking…" });
    await delivery.event(req, { type: "text", delta: `See ${leak} and [the chart](${leak}&x=1)\n\n` });
    await pause(1300);
    await delivery.event(req, { type: "text", delta: "More text." });
    await pause(1300);
    const long = Array.from({ length: 40 }, (_, i) => `Paragraph ${i}: ${leak}&p=${i} ${"words ".repeat(10)}`).join("\n\n");
    await delivery.answer(req, answer({ markdown: long, code: ["print(1)"], facts: { model: "gpt-test", steps: 1 }, files: [{ name: "a.csv", mime: "text/csv", data: Buffer.from("a\n1\n") }] }));
    const calls = messages(req);
    expect(calls.filter((call) => call.method === "PATCH").length).toBeGreaterThanOrEqual(2);
    expect(calls.filter((call) => call.method === "POST").length).toBeGreaterThanOrEqual(2); // the answer's further parts, the file
    expect(calls.some((call) => String(call.body?.content).includes(leak))).toBe(true);
    expectNoPings(req);
  });

  test("a phishing failure is plain text", async () => {
    const req = request();
    await delivery.fail(req, { message: `${PHISHING} ${PINGS}` });
    expectNoPings(req);
    const [content] = texts(req);
    expect(content).toContain("\\# Admin notice");
    expect(content).toContain("\\[Re-enter your password](http://evil.example/login)");
    expect(content).toContain("\\*\\*urgent\\*\\*");
  });

  test("2,000 files with 200-character names: a few bounded messages, the full list in answer.md", async () => {
    const req = request();
    const names = Array.from({ length: 2000 }, (_, i) => `${String(i).padStart(4, "0")}-@everyone-${"n".repeat(200)}`.slice(0, 200));
    const listing = names.map((name) => `- \`/mnt/data/${name}\` (1 B, text/plain)`).join("\n");
    await delivery.answer(req, answer({ markdown: `Files:\n${listing}`, code: ["print('listing')"], skippedFiles: names.map((name) => `${name} (at most 10 files are sent per answer)`) }));
    const sent = texts(req).filter(Boolean);
    expect(sent.length).toBeLessThanOrEqual(MAX_TEXT_MESSAGES);
    for (const content of sent) expect(content.length).toBeLessThanOrEqual(2000);
    expect(sent.join("\n")).toContain("and 1,980 more");
    expect(sent.join("\n")).toContain("full answer is in answer.md");
    expectNoPings(req);
    const attached = messages(req).flatMap((call) => call.files);
    expect(attached.map((file) => file.name)).toEqual(["answer.md"]);
    expect(attached[0]?.bytes.toString()).toContain(names[1999]);
  });

  test("a 60,000-character answer of short lines stays within the message cap", async () => {
    const req = request();
    await delivery.answer(req, answer({ markdown: Array.from({ length: 3000 }, (_, i) => `line ${i} @here`).join("\n") }));
    const sent = texts(req).filter(Boolean);
    expect(sent.length).toBeLessThanOrEqual(MAX_TEXT_MESSAGES);
    expectNoPings(req);
  });
});
