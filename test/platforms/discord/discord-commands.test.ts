import { describe, expect, test } from "vitest";
import type { ChatRequest } from "../../../src/core/chat-request.js";
import { threadKey } from "../../../src/core/chat-request.js";
import { FeedbackStore } from "../../../src/feedback/feedback-store.js";
import { feedbackRow } from "../../../src/platforms/discord/discord-feedback.js";
import { jobIdForEvent } from "../../../src/redis/redis-keys.js";
import { useDiscordBot } from "../../support/discord-bot-fixture.js";
import { runCli } from "../../support/run-cli.js";
import { buttonInteraction, chatInputInteraction, messageCommandInteraction, messageCreate, modalSubmitInteraction, snowflake, user } from "../../support/stand-ins/discord-payloads.js";

const alice = user("alice");
const mallory = user("mallory");
// Only alice may use the bot: mallory's commands are refused.
// Schedules may run seconds apart (a 6-field cron, down to 3 s): a run is watched in seconds.
const fixture = useDiscordBot({ DISCORD_ALLOWED_USERS: alice.id, SCHEDULE_MIN_INTERVAL_MINUTES: "0.05" });
const { pipeline } = fixture;

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

type Interaction = { id: string; token: string };
const place = () => ({ applicationId: fixture.discord.applicationId, guildId: fixture.discord.guildId, channelId: fixture.discord.channelId });
/** A thread of the stand-in's channel (Discord threads are channels of their own). */
const threadPlace = () => ({ ...place(), channelId: snowflake(), parentId: fixture.discord.channelId });

/** Dispatches an interaction and resolves with the bot's response to it (the interaction callback). */
async function interact(payload: object): Promise<{ type: number; data?: Record<string, unknown> }> {
  const { id } = payload as Interaction;
  fixture.discord.dispatch("INTERACTION_CREATE", payload);
  const callback = await fixture.discord.waitFor("POST", new RegExp(`^/interactions/${id}/[^/]+/callback$`));
  return callback.body as { type: number; data?: Record<string, unknown> };
}

/** The request the bot enqueued for an interaction, as the worker takes it. */
const queued = (interaction: object) =>
  until("the job", async () => ((await pipeline.queue.queue.getJob(jobIdForEvent(`discord:${(interaction as Interaction).id}`)))?.data.request as ChatRequest | undefined) ?? undefined);
const waitForContent = (channel: string, pattern: RegExp) =>
  fixture.discord.waitFor("PATCH", new RegExp(`^/channels/${channel}/messages/\\d+$`), (call) => pattern.test(String(call.body?.content ?? "")));
/** The thread the bot opened on its reply to an interaction (started after the deferred reply was edited). */
async function threadOnReply(interaction: object): Promise<string> {
  const reply = await fixture.discord.waitFor("PATCH", new RegExp(`^/webhooks/\\d+/${(interaction as Interaction).token}/messages/@original$`));
  const thread = await fixture.discord.waitFor("POST", new RegExp(`^/channels/${fixture.discord.channelId}/messages/\\d+/threads$`), (call) => call.at >= reply.at);
  return thread.path.split("/")[4]!;
}

describe("Discord commands: ephemeral refusals, /run's code box, Run code on a message, /export, feedback", () => {
  test("a refused command is answered ephemerally (flag 64) and nothing is queued; so is one used in the wrong place", async () => {
    const refused = chatInputInteraction({ ...place(), user: mallory, name: "ask", options: [{ name: "question", type: 3, value: "anything?" }] });
    const response = await interact(refused);
    expect(response.type).toBe(4);
    expect(response.data).toMatchObject({ content: expect.stringMatching(/not on the list/), flags: 64 });
    const box = await interact(chatInputInteraction({ ...place(), user: mallory, name: "run" }));
    expect(box).toMatchObject({ type: 4, data: { flags: 64 } });
    const wrongPlace = await interact(chatInputInteraction({ ...place(), user: alice, name: "reset" }));
    expect(wrongPlace.type).toBe(4);
    expect(wrongPlace.data).toMatchObject({ content: expect.stringMatching(/use it inside the thread/), flags: 64 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await pipeline.queue.queue.getJob(jobIdForEvent(`discord:${(refused as Interaction).id}`))).toBeUndefined();
    // Answered once, with the refusal: never deferred (type 5) as an accepted command is.
    const responses = fixture.discord.callsTo("POST", new RegExp(`^/interactions/${(refused as Interaction).id}/`));
    expect(responses.map((call) => (call.body as { type?: number } | undefined)?.type)).toEqual([4]);
  });

  test("/run without code opens a box for several lines; its submission runs as written in a new thread", async () => {
    const before = pipeline.llm.requests.length;
    const modal = await interact(chatInputInteraction({ ...place(), user: alice, name: "run" }));
    expect(modal.type).toBe(9);
    expect(modal.data?.custom_id).toBe("codebot_run_modal");
    const [label] = modal.data?.components as Array<{ type: number; component: { type: number; style: number; custom_id: string } }>;
    expect(label).toMatchObject({ type: 18, component: { type: 4, style: 2, custom_id: "code" } });

    const code = "total = 0\nfor i in range(5):\n    total += i\nprint('total', total)";
    const submit = modalSubmitInteraction({ ...place(), user: alice, customId: "codebot_run_modal", fields: { code } });
    expect((await interact(submit)).type).toBe(5);
    expect(await queued(submit)).toMatchObject({ kind: "run", text: code });
    const thread = await threadOnReply(submit);
    await waitForContent(thread, /total 10/);
    expect(pipeline.llm.requests.length).toBe(before);
  });

  test("Run code on a message runs its fenced Python block", async () => {
    const target = messageCreate({ channelId: fixture.discord.channelId, guildId: fixture.discord.guildId, author: user("bob"), content: "Try this:\n```python\nprint(6 * 7)\n```\nit should work" }) as Record<string, unknown> & { id: string };
    const command = messageCommandInteraction({ ...place(), user: alice, name: "Run code", target });
    expect((await interact(command)).type).toBe(5);
    expect(await queued(command)).toMatchObject({ kind: "run", text: "print(6 * 7)" });
    const thread = await threadOnReply(command);
    await waitForContent(thread, /42/);
  });

  test("/files zip and /export (zip) in a thread are the files and export requests for that thread", async () => {
    const where = threadPlace();
    const files = chatInputInteraction({ ...where, user: alice, name: "files", options: [{ name: "zip", type: 5, value: true }] });
    expect((await interact(files)).type).toBe(5);
    expect(await queued(files)).toMatchObject({ kind: "files", text: "zip", conversation: { channelId: where.channelId, threadId: where.channelId } });
    const exported = chatInputInteraction({ ...where, user: alice, name: "export", options: [{ name: "zip", type: 5, value: true }] });
    expect((await interact(exported)).type).toBe(5);
    expect(await queued(exported)).toMatchObject({ kind: "export", text: "zip", conversation: { threadId: where.channelId } });
    const plain = chatInputInteraction({ ...where, user: alice, name: "export" });
    await interact(plain);
    expect(await queued(plain)).toMatchObject({ kind: "export", text: "" });
  });

  test("a 👍/👎 click is recorded for its thread and answered ephemerally; the model's name comes through its hash", async () => {
    const where = threadPlace();
    const eventId = `discord:${snowflake()}`;
    const row = feedbackRow(eventId, { model: "stand-in-model", steps: 2 }).toJSON() as { components: Array<{ custom_id: string }> };
    const [up, down] = row.components.map((button) => button.custom_id) as [string, string];
    expect(up.length).toBeLessThanOrEqual(100);
    expect(up).not.toContain("stand-in-model");
    const answer = messageCreate({ channelId: where.channelId, channelType: 11, guildId: where.guildId, author: fixture.discord.bot, content: "The answer." });
    const click = (customId: string, who = alice) => interact(buttonInteraction({ ...where, user: who, customId, message: answer }));

    expect(await click(up)).toMatchObject({ type: 4, data: { content: expect.stringMatching(/Thanks for the feedback/), flags: 64 } });
    expect(await click(down)).toMatchObject({ type: 4, data: { flags: 64 } });
    expect(await click(up, mallory)).toMatchObject({ type: 4, data: { content: expect.stringMatching(/not on the list/), flags: 64 } });
    const store = new FeedbackStore(pipeline.redis, pipeline.keys);
    const key = threadKey({ platform: "discord", workspaceId: where.guildId, channelId: where.channelId, threadId: where.channelId });
    expect(await store.thread(key)).toMatchObject([{ eventId, userId: alice.id, rating: "down", steps: 2 }]);
    expect((await store.summary()).find((row) => row.model === "stand-in-model")).toMatchObject({ up: 0, down: 1 });
  });

  test("codebot discord register puts the slash commands and the message command on the application", async () => {
    const run = await runCli(["discord", "register"], { env: pipeline.env });
    expect(run.stdout).toContain(`Registered 8 slash commands and 1 message command for application ${fixture.discord.applicationId}`);
    const put = await fixture.discord.waitFor("PUT", new RegExp(`^/applications/${fixture.discord.applicationId}/commands$`));
    const commands = put.body as unknown as Array<{ name: string; type: number; options?: Array<{ name: string; type: number; required?: boolean }> }>;
    expect(commands.map((command) => [command.name, command.type])).toEqual([
      ["ask", 1],
      ["run", 1],
      ["reset", 1],
      ["files", 1],
      ["export", 1],
      ["schedule", 1],
      ["schedules", 1],
      ["unschedule", 1],
      ["Run code", 3],
    ]);
    const byName = new Map(commands.map((command) => [command.name, command]));
    expect(byName.get("run")?.options).toMatchObject([{ name: "code", type: 3, required: false }]);
    expect(byName.get("files")?.options).toMatchObject([{ name: "zip", type: 5, required: false }]);
    expect(byName.get("export")?.options).toMatchObject([{ name: "zip", type: 5, required: false }]);
    expect(byName.get("schedule")?.options).toMatchObject([
      { name: "when", type: 3, required: true },
      { name: "request", type: 3, required: true },
    ]);
    expect(byName.get("unschedule")?.options).toMatchObject([{ name: "id", type: 3, required: true }]);
  });

  test("schedules: /schedule in a thread (refused outside one), its runs posted in the thread, the words after a mention, /schedules and /unschedule", async () => {
    const outside = await interact(chatInputInteraction({ ...place(), user: alice, name: "schedule", options: [{ name: "when", type: 3, value: "every day at 09:00" }, { name: "request", type: 3, value: "report" }] }));
    expect(outside.data).toMatchObject({ content: expect.stringMatching(/use it inside the thread/), flags: 64 });
    const where = threadPlace();
    const made = chatInputInteraction({ ...where, user: alice, name: "schedule", options: [{ name: "when", type: 3, value: "*/5 * * * * *" }, { name: "request", type: 3, value: "```python\nprint('tick', 6 * 7)\n```" }] });
    expect((await interact(made)).type).toBe(5);
    expect(await queued(made)).toMatchObject({ kind: "schedule", text: "*/5 * * * * *: ```python\nprint('tick', 6 * 7)\n```", access: { isDm: false, channelId: fixture.discord.channelId } });
    const confirmation = await waitForContent(where.channelId, /Scheduled `[a-z2-9]{6}`/);
    const id = /Scheduled `([a-z2-9]{6})`/.exec(String(confirmation.body?.content))![1]!;
    // A run: a message of its own in the thread, headed.
    await fixture.discord.waitFor("PATCH", new RegExp(`^/channels/${where.channelId}/messages/\\d+$`), (call) => new RegExp(`Scheduled run of \`${id}\`[\\s\\S]*tick 42`).test(String(call.body?.content ?? "")), 100_000);
    // The words after a mention, in the thread: a command too.
    const listing = messageCreate({ channelId: where.channelId, channelType: 11, guildId: where.guildId, author: alice, content: `<@${fixture.discord.bot.id}> schedules`, mentions: [fixture.discord.bot] }) as { id: string };
    fixture.discord.dispatch("MESSAGE_CREATE", listing);
    expect(await queued(listing)).toMatchObject({ kind: "schedules", text: "" });
    await fixture.discord.waitFor("POST", new RegExp(`^/channels/${where.channelId}/messages$`), (call) => String(call.body?.content ?? "").includes(`\`${id}\` every 5 seconds`), 60_000).catch(() =>
      waitForContent(where.channelId, new RegExp(`This thread's schedules \\(1\\):[\\s\\S]*\`${id}\``)),
    );
    // /reset clears the session and says the schedule goes on, in the fresh session.
    await interact(chatInputInteraction({ ...where, user: alice, name: "reset" }));
    await waitForContent(where.channelId, new RegExp(`Started afresh: .* Its schedule keeps running, from now on in this fresh session \\(\`${id}\`; \`unschedule all\` stops it\\)\\.`));
    const removed = chatInputInteraction({ ...where, user: alice, name: "unschedule", options: [{ name: "id", type: 3, value: id }] });
    await interact(removed);
    await waitForContent(where.channelId, new RegExp(`Removed schedule \`${id}\``));
  }, 200_000);
});
