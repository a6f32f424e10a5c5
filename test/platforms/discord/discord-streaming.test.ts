import { describe, expect, test } from "vitest";
import { useDiscordBot } from "../../support/discord-bot-fixture.js";
import { buttonInteraction, messageCreate, snowflake, user } from "../../support/stand-ins/discord-payloads.js";
import type { RecordedRestCall } from "../../support/stand-ins/discord-stand-in.js";

const alice = user("alice");
const fixture = useDiscordBot();
const { pipeline } = fixture;

/** An answer of ~1,500 characters, in paragraphs. */
const ANSWER = Array.from({ length: 10 }, (_, i) => `**Finding ${i + 1}.** Orders in region ${i + 1} rose by ${i * 3 + 2}% over the quarter, ahead of plan.`).join("\n\n");

function mention(content: string): string {
  const id = snowflake();
  fixture.discord.dispatch("MESSAGE_CREATE", messageCreate({ id, channelId: fixture.discord.channelId, guildId: fixture.discord.guildId, author: alice, content: `<@${fixture.discord.bot.id}> ${content}`, mentions: [fixture.discord.bot] }));
  return id; // the thread started from the message takes its id
}

const edits = (thread: string) => fixture.discord.calls.filter((call) => call.method === "PATCH" && new RegExp(`^/channels/${thread}/messages/\\d+$`).test(call.path) && call.status < 300);
const hasStop = (call: RecordedRestCall) => JSON.stringify(call.body?.components ?? []).includes("codebot_stop");
const finalEdit = (thread: string) => fixture.discord.waitFor("PATCH", new RegExp(`^/channels/${thread}/messages/\\d+$`), (call) => !hasStop(call));

describe("Discord: answers shown as they are written", () => {
  test("the status message is edited with the answer so far, never faster than Discord allows, and ends equal to the answer", async () => {
    pipeline.llm.script({ content: ANSWER, chunkDelayMs: 30 });
    const thread = mention("what rose?");
    const final = await finalEdit(thread);
    expect(String(final.body?.content)).toBe(ANSWER);
    const drafts = edits(thread).filter((call) => hasStop(call) && String(call.body?.content).includes("Finding"));
    expect(drafts.length).toBeGreaterThanOrEqual(2);
    // Each draft shows more of the same answer.
    expect(ANSWER.startsWith(String(drafts[0]?.body?.content).replace(/…$/, ""))).toBe(true);
    // Discord allows about 5 edits per 5 s in a channel: the edits of the message are ≥ 1 s apart.
    const times = edits(thread).map((call) => call.at);
    expect(Math.min(...times.slice(1).map((time, i) => time - (times[i] ?? 0)))).toBeGreaterThanOrEqual(1000);
    expect(fixture.discord.callsTo("PATCH", /messages/).every((call) => call.status !== 429)).toBe(true);
    // Feedback buttons end a model's answer.
    expect(JSON.stringify(final.body?.components)).toMatch(/"type":2/);
  });

  test("a DataFrame a step ends with becomes an aligned table, with the whole data attached as CSV", async () => {
    const code = "import pandas as pd\ndf = pd.DataFrame({'region': [f'r{i}' for i in range(40)], 'units': range(40)})\ndf";
    pipeline.llm.script({ toolCalls: [{ name: "python", arguments: { code } }] }, { content: "Here are the units per region." });
    const thread = mention("units per region as a table");
    const final = await finalEdit(thread);
    const content = String(final.body?.content);
    expect(content).toMatch(/^Here are the units per region\./);
    expect(content).toMatch(/```\nregion +units\n-+ +-+\nr0 +0\n/);
    expect(content).toMatch(/of 40 rows.*table-1\.csv/);
    const withFiles = await fixture.discord.waitFor("POST", new RegExp(`^/channels/${thread}/messages$`), (call) => call.files.some((file) => file.name === "table-1.csv"));
    expect(withFiles.files.find((file) => file.name === "table-1.csv")?.bytes.toString()).toBe(["region,units", ...Array.from({ length: 40 }, (_, i) => `r${i},${i}`), ""].join("\n"));
  });

  test("Stop while the answer is being written ends it with a clear note", async () => {
    pipeline.llm.script({ content: ANSWER.repeat(4), chunkDelayMs: 60 });
    const thread = mention("write a lot");
    const draft = await fixture.discord.waitFor("PATCH", new RegExp(`^/channels/${thread}/messages/\\d+$`), (call) => hasStop(call) && String(call.body?.content).includes("Finding"));
    const customId = (draft.body?.components as Array<{ components: Array<{ custom_id: string }> }>)[0]!.components[0]!.custom_id;
    const messageId = draft.path.split("/").pop()!;
    fixture.discord.dispatch("INTERACTION_CREATE", buttonInteraction({ applicationId: fixture.discord.applicationId, guildId: fixture.discord.guildId, channelId: thread, user: alice, customId, message: messageCreate({ id: messageId, channelId: thread, channelType: 11, guildId: fixture.discord.guildId, author: fixture.discord.bot, content: "…" }) }));
    const stopped = await finalEdit(thread);
    expect(stopped.body?.content).toBe("⚠️ Stopped: the request was cancelled.");
  });
});
