import { describe, expect, test } from "vitest";
import { MAX_TEXT_MESSAGES } from "../../../src/platforms/discord/discord-delivery.js";
import { useDiscordBot } from "../../support/discord-bot-fixture.js";
import { chatInputInteraction, messageCreate, snowflake, user } from "../../support/stand-ins/discord-payloads.js";

/**
 * Attacks on the chat, end to end through discord.js, the queue, a real worker and sandbox: the
 * sandbox prints mass mentions, raises a phishing exception and fills the session with 2,000 files
 * whose long names carry @everyone; /files then lists them.
 */
const alice = user("alice");
const fixture = useDiscordBot();
const { pipeline } = fixture;

function mention(content: string): string {
  const id = snowflake();
  fixture.discord.dispatch("MESSAGE_CREATE", messageCreate({ id, channelId: fixture.discord.channelId, guildId: fixture.discord.guildId, author: alice, content: `<@${fixture.discord.bot.id}> ${content}`, mentions: [fixture.discord.bot] }));
  return id;
}
const messages = (channel: string) => fixture.discord.calls.filter((call) => call.path.startsWith(`/channels/${channel}/messages`) && call.body && call.status > 0 && call.status < 300);
const waitForContent = (channel: string, pattern: RegExp) =>
  fixture.discord.waitFor("PATCH", new RegExp(`^/channels/${channel}/messages/\\d+$`), (call) => pattern.test(String(call.body?.content ?? "")), 120_000);

/** Every string of a value, however deep. */
const strings = (value: unknown): string[] =>
  typeof value === "string" ? [value] : Array.isArray(value) ? value.flatMap(strings) : value && typeof value === "object" ? Object.values(value).flatMap(strings) : [];

function expectNoPings(channel: string): void {
  for (const call of messages(channel)) {
    // The text and the components (buttons); attachments' file names ping nobody.
    for (const text of strings([call.body?.content, call.body?.components, call.body?.embeds])) expect(text).not.toMatch(/@(everyone|here)|<@[!&]?\d/);
    expect(call.body?.allowed_mentions).toEqual({ parse: [] });
  }
}
const python = (code: string) => ({ toolCalls: [{ name: "python", arguments: { code } }] });
type Body = { messages: Array<{ role: string; content?: unknown }> };
const lastTool = (body: Body) => String([...body.messages].reverse().find((message) => message.role === "tool")?.content ?? "");

describe("Discord, hostile sandbox output, end to end", () => {
  test("the model's answer, written as it comes: hostile step output and a DataFrame stay defused in every draft and the answer", async () => {
    const code = [
      "# Tally for @everyone <@&123456789012345678>",
      "import pandas as pd, time",
      "time.sleep(1.5)",
      "print('@here <@123456789012345678> @everyone')",
      "pd.DataFrame({'@everyone who': ['<@!12345> ```', '@here'], '<@&123456789012345678> n': [1, 2]})",
    ].join("\n");
    pipeline.llm.script(
      { content: "Let me tally it for @every", chunkDelayMs: 30, ...python(code) },
      (body: Body) => ({ content: `Tallied: ${lastTool(body).match(/stdout:\n([^\n]*)/)?.[1]} and @here`, chunkDelayMs: 30 }),
    );
    const thread = mention("tally it");
    const answer = await fixture.discord.waitFor("PATCH", new RegExp(`^/channels/${thread}/messages/\\d+$`), (call) => !JSON.stringify(call.body?.components ?? []).includes("codebot_stop") && String(call.body?.content ?? "").includes("Tallied"), 120_000);
    await fixture.discord.waitFor("POST", new RegExp(`^/channels/${thread}/messages$`), (call) => call.files.length > 0);
    expectNoPings(thread);
    const drafts = messages(thread).filter((call) => call.method === "PATCH" && JSON.stringify(call.body?.components ?? []).includes("codebot_stop"));
    expect(drafts.some((call) => String(call.body?.content).includes("-# ⚙️ Step 1 · running…"))).toBe(true);
    const content = String(answer.body?.content);
    expect(content).toContain("Tallied: @\u200bhere <@\u200b123456789012345678> @\u200beveryone and @\u200bhere"); // the sandbox's stdout, quoted by the model
    // The DataFrame as a monospace table whose cells can't close its code block; the step's line; the feedback buttons.
    const table = /```\n([^`]*@\u200beveryone who[^`]*)\n```/.exec(content)?.[1];
    expect(table).toBeDefined();
    expect(table).toMatch(/<@\u200b+!12345> ˋˋˋ/);
    expect(content).toMatch(/^-# ✅ Step 1 · done · 2 × 2 table/m);
    expect(JSON.stringify(answer.body?.components)).toContain("codebot_fb:");
    const csv = messages(thread).flatMap((call) => call.files).find((file) => file.name.endsWith(".csv"));
    expect(csv?.bytes.toString()).toContain("@everyone who");
  });

  test("mentions and a phishing exception stay text; /files with 2,000 long names is a few bounded messages", async () => {
    const code = [
      "for i in range(2000):",
      "    open(f'/mnt/data/{i:04d}-@everyone-<@&123456789012345678>-' + 'n' * 160, 'w').close()",
      "print('@everyone @here <@123456789012345678> <@!123456789012345678> <@&123456789012345678>')",
      "raise ValueError('# Admin notice\\n[Re-enter your password](http://evil.example/login)')",
    ].join("\n");
    const thread = mention(`\`\`\`python\n${code}\n\`\`\``);
    const answer = await waitForContent(thread, /Admin notice/);
    const content = String(answer.body?.content);
    expect((content.slice(0, content.indexOf("# Admin notice")).match(/```/g) ?? []).length % 2).toBe(1);

    fixture.discord.dispatch("INTERACTION_CREATE", chatInputInteraction({ applicationId: fixture.discord.applicationId, guildId: fixture.discord.guildId, channelId: thread, parentId: fixture.discord.channelId, user: alice, name: "files" }));
    const listing = await waitForContent(thread, /Files in this thread's session \(2,000\)/);
    await fixture.discord.waitFor("POST", new RegExp(`^/channels/${thread}/messages$`), (call) => String(call.body?.content ?? "").includes("and 1,980 more"));
    const parts = messages(thread).filter((call) => call.at >= listing.at).map((call) => String(call.body?.content ?? ""));
    expect(parts.length).toBeLessThanOrEqual(MAX_TEXT_MESSAGES);
    for (const part of parts) expect(part.length).toBeLessThanOrEqual(2000);
    expectNoPings(thread);
  });
});
