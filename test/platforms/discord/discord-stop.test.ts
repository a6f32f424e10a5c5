import { MessageFlags } from "discord.js";
import { describe, expect, test } from "vitest";
import { useDiscordBot } from "../../support/discord-bot-fixture.js";
import { buttonInteraction, messageCreate, snowflake, user } from "../../support/stand-ins/discord-payloads.js";
import type { RecordedRestCall } from "../../support/stand-ins/discord-stand-in.js";

/**
 * A request's Stop button acts only for the person who asked, or for one of ADMIN_USERS: anyone
 * else pressing it is told so, ephemerally, and the request goes on.
 */
const alice = user("alice");
const mallory = user("mallory");
const admin = user("boss");
const fixture = useDiscordBot({ ADMIN_USERS: `slack:U0NOTHER01,discord:${admin.id}` });

function mention(content: string): string {
  const id = snowflake();
  fixture.discord.dispatch("MESSAGE_CREATE", messageCreate({ id, channelId: fixture.discord.channelId, guildId: fixture.discord.guildId, author: alice, content: `<@${fixture.discord.bot.id}> ${content}`, mentions: [fixture.discord.bot] }));
  return id; // a thread started from a message takes the message's id
}

const edits = (thread: string, pattern: RegExp) => fixture.discord.callsTo("PATCH", new RegExp(`^/channels/${thread}/messages/\\d+$`)).filter((call) => pattern.test(String(call.body?.content ?? "")));

/** Presses the Stop button of the thread's running request as `who`; returns the interaction's callback call. */
async function pressStop(thread: string, who: typeof alice): Promise<RecordedRestCall> {
  const running = await fixture.discord.waitFor("PATCH", new RegExp(`^/channels/${thread}/messages/\\d+$`), (call) => JSON.stringify(call.body?.components ?? []).includes("codebot_stop:") && /Running your code/.test(String(call.body?.content)));
  const customId = (running.body?.components as Array<{ components: Array<{ custom_id: string }> }>)[0]!.components[0]!.custom_id;
  const interaction = buttonInteraction({ applicationId: fixture.discord.applicationId, guildId: fixture.discord.guildId, channelId: thread, user: who, customId, message: messageCreate({ id: running.path.split("/").pop()!, channelId: thread, channelType: 11, guildId: fixture.discord.guildId, author: fixture.discord.bot, content: "⚙️ Running your code…" }) });
  fixture.discord.dispatch("INTERACTION_CREATE", interaction);
  return fixture.discord.waitFor("POST", /^\/interactions\/\d+\/[^/]+\/callback$/, (call) => call.path.includes((interaction as { id: string }).id));
}

describe("Discord: Stop acts only for the person who asked, or an admin", () => {
  test("someone else's press is refused, ephemerally, naming the asker; the request goes on; the asker's own stops it", async () => {
    const thread = mention("```python\nimport time\nfor i in range(8):\n    time.sleep(0.5)\nprint('finished anyway')\n```");
    const refused = await pressStop(thread, mallory);
    expect(refused.body).toMatchObject({ type: 4, data: { content: "Only Alice (who asked) or an admin can stop this.", flags: MessageFlags.Ephemeral } });
    await fixture.discord.waitFor("PATCH", new RegExp(`^/channels/${thread}/messages/\\d+$`), (call) => String(call.body?.content).includes("finished anyway"), 60_000);
    expect(edits(thread, /cancelled/)).toEqual([]);

    const second = mention("```python\nimport time\ntime.sleep(120)\n```");
    const stopped = await pressStop(second, alice);
    expect(stopped.body).toMatchObject({ type: 6 }); // acknowledged, no message
    await fixture.discord.waitFor("PATCH", new RegExp(`^/channels/${second}/messages/\\d+$`), (call) => String(call.body?.content) === "⚠️ Stopped: the request was cancelled.");
  });

  test("an admin (ADMIN_USERS) stops anyone's request", async () => {
    const thread = mention("```python\nimport time\ntime.sleep(120)\n```");
    const callback = await pressStop(thread, admin);
    expect(callback.body).toMatchObject({ type: 6 });
    await fixture.discord.waitFor("PATCH", new RegExp(`^/channels/${thread}/messages/\\d+$`), (call) => String(call.body?.content) === "⚠️ Stopped: the request was cancelled.");
  });
});
