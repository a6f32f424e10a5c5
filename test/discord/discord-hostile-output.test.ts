import { describe, expect, test } from "vitest";
import { MAX_TEXT_MESSAGES } from "../../src/platforms/discord/discord-delivery.js";
import { useDiscordBot } from "../helpers/discord-bot-fixture.js";
import { chatInputInteraction, messageCreate, snowflake, user } from "../stand-ins/discord-payloads.js";

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

function expectNoPings(channel: string): void {
  for (const call of messages(channel)) {
    expect(String(call.body?.content ?? "")).not.toMatch(/@(everyone|here)|<@[!&]?\d/);
    expect(call.body?.allowed_mentions).toEqual({ parse: [] });
  }
}

describe("Discord, hostile sandbox output, end to end", () => {
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
