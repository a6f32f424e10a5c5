import { REST } from "discord.js";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { executionMarkdown } from "../../src/agent/execution-markdown.js";
import { chatRequestSchema, type ChatRequest } from "../../src/core/chat-request.js";
import type { Answer } from "../../src/core/reply.js";
import { createLogger } from "../../src/log.js";
import { DiscordDelivery, MAX_TEXT_MESSAGES } from "../../src/platforms/discord/discord-delivery.js";
import { snowflake } from "../stand-ins/discord-payloads.js";
import { startDiscordStandIn, type DiscordStandIn, type RecordedRestCall } from "../stand-ins/discord-stand-in.js";
import { hostileResult, PHISHING } from "../helpers/hostile-result.js";

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

const answer = (extra: Partial<Answer>): Answer => ({ markdown: "", code: [], images: [], files: [], skippedFiles: [], ...extra });

/** The bot's messages (posted or edited) in the request's channel. */
const messages = (req: ChatRequest): RecordedRestCall[] =>
  discord.calls.filter((call) => call.path.startsWith(`/channels/${req.conversation.channelId}/messages`) && call.status > 0 && call.status < 300);
const texts = (req: ChatRequest) => messages(req).map((call) => String(call.body?.content ?? ""));

function expectNoPings(req: ChatRequest): void {
  for (const call of messages(req)) {
    const content = String(call.body?.content ?? "");
    expect(content).not.toMatch(/@(everyone|here)/);
    expect(content).not.toMatch(/<@[!&]?\d/);
    expect(call.body?.allowed_mentions).toEqual({ parse: [] });
  }
}

describe("Discord delivery of hostile sandbox output", () => {
  test("mass mentions in stdout, the value, an exception, notes, code, file names and status never reach Discord", async () => {
    const req = request();
    await delivery.status(req, { phase: "running", step: 1, text: `Running ${PINGS}` });
    const markdown = executionMarkdown(hostileResult(PINGS));
    await delivery.answer(req, answer({
      markdown,
      code: [`print("${PINGS}")`],
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
