import { describe, expect, test } from "vitest";
import type { ChatRequest } from "../../../src/core/chat-request.js";
import { threadKey } from "../../../src/core/chat-request.js";
import { FeedbackStore } from "../../../src/feedback/feedback-store.js";
import { FEEDBACK_ACTION_ID, feedbackBlock } from "../../../src/platforms/slack/slack-feedback.js";
import { jobIdForEvent } from "../../../src/redis/redis-keys.js";
import { runCli } from "../../support/run-cli.js";
import { useSlackBot } from "../../support/slack-bot-fixture.js";
import { useSlashResponses } from "../../support/slash-responses.js";
import { appMention, assistantThreadStarted, directMessage, feedbackAction, slashCommand } from "../../support/stand-ins/slack-events.js";

const ALICE = "U0ALICE001";
const BOB = "U0BOB00002";
const CHANNEL = "C0DATATEAM";

let clock = 1_720_000_000;
const nextTs = () => `${++clock}.000300`;
const fixture = useSlackBot({}, async () => undefined, { socketMode: true });
const { pipeline } = fixture;

/** Where slash commands' response_url points: every ephemeral answer the bot sends there. */
const responses = useSlashResponses();
const { answered } = responses;

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The request the bot enqueued for an event id, as the worker takes it. */
const queued = (eventId: string) =>
  until(`the job of ${eventId}`, async () => ((await pipeline.queue.queue.getJob(jobIdForEvent(eventId)))?.data.request as ChatRequest | undefined) ?? undefined);
/** Waits until the worker is done with the job (answered or failed). */
const settled = (eventId: string) =>
  until(`the job of ${eventId} to settle`, async () => {
    const state = await (await pipeline.queue.queue.getJob(jobIdForEvent(eventId)))?.getState();
    return state === "completed" || state === "failed" ? state : undefined;
  });

/** Sends a slash command; resolves with the ephemeral answer posted to its response_url. */
async function slash(command: string, text: string, channel: string, user = ALICE) {
  const path = `/respond/${Math.random().toString(36).slice(2)}`;
  const payload = slashCommand({ command, text, user, channel, teamId: fixture.slack.teamId, responseUrl: `${responses.base}${path}` });
  await fixture.command(payload);
  const response = await until(`an answer to ${command}`, () => answered.find((entry) => entry.path === path));
  return { eventId: `slack:${fixture.slack.teamId}:${channel}:command:${payload.trigger_id}`, text: String(response.body.text), responseType: response.body.response_type };
}

/** Waits until the bot said `text` in the channel, whichever way its delivery says things (post, update, stream). */
const said = (channel: string, text: string) =>
  until(`"${text}" in ${channel}`, () => fixture.slack.calls.find((call) => call.method.startsWith("chat.") && call.args.channel === channel && JSON.stringify(call.args).includes(text)));

/** Every job the queue holds, whatever its state. */
const jobCount = async () => Object.values(await pipeline.queue.queue.getJobCounts()).reduce((sum, count) => sum + count, 0);

const dm = (user: string, channel: string, text: string, threadTs?: string) => {
  const ts = nextTs();
  return { ts, eventId: `slack:${fixture.slack.teamId}:${channel}:${ts}`, event: directMessage({ user, text, channel, ts, threadTs }, fixture.slack.teamId) };
};

describe("Slack's AI app surface, slash commands and feedback, through Bolt over Socket Mode", () => {
  test("a new assistant thread is greeted with suggested prompts; its first question names it and is marked for setStatus", async () => {
    const channel = "D0ALICEDM1";
    const threadTs = nextTs();
    await fixture.send(assistantThreadStarted({ user: ALICE, channel, threadTs, teamId: fixture.slack.teamId, contextChannel: CHANNEL }));
    const prompts = await fixture.slack.waitFor("assistant.threads.setSuggestedPrompts", (call) => call.args.thread_ts === threadTs);
    expect(prompts.args.channel_id).toBe(channel);
    const list = prompts.args.prompts as Array<{ title: string; message: string }>;
    expect(list.length).toBeGreaterThan(0);
    expect(list.length).toBeLessThanOrEqual(4);
    for (const prompt of list) {
      expect(prompt.title.length).toBeGreaterThan(0);
      expect(prompt.message.length).toBeGreaterThan(prompt.title.length);
    }
    expect(list.map((prompt) => prompt.title)).toEqual(expect.arrayContaining(["Summarise a CSV", "Plot a column over time", "Find outliers"]));
    const greeting = await fixture.slack.waitFor("chat.postMessage", (call) => call.args.thread_ts === threadTs);
    expect(String(greeting.args.text)).toMatch(/by running Python/);

    pipeline.llm.script({ content: "The mean is 42." });
    const first = dm(ALICE, channel, "What's the mean of <!channel> column &lt;x&gt;? @everyone please\nthanks", threadTs);
    await fixture.send(first.event);
    const request = await queued(first.eventId);
    expect(request.kind).toBe("message");
    expect(request.conversation).toMatchObject({ platform: "slack", channelId: channel, threadId: threadTs });
    expect(request.replyContext).toEqual({ threadTs, assistantThread: "1" });
    const title = await fixture.slack.waitFor("assistant.threads.setTitle", (call) => call.args.thread_ts === threadTs);
    expect(title.args.channel_id).toBe(channel);
    const named = String(title.args.title);
    expect(named).toBe("What's the mean of @\u200bchannel column <x>? @\u200beveryone please thanks");
    expect(named).not.toMatch(/<!channel>|(^|[^\u200b])@everyone/);
    expect(await settled(first.eventId)).toBe("completed");
    // The worker shows what it does as the assistant's status, cleared once the answer is there.
    const statuses = fixture.slack.callsTo("assistant.threads.setStatus").filter((call) => call.args.thread_ts === threadTs).map((call) => String(call.args.status));
    expect(statuses[0]).toBe("thinking");
    expect(statuses.at(-1)).toBe("");
    expect(fixture.slack.streams.find((stream) => stream.threadTs === threadTs)?.markdown.trim()).toBe("The mean is 42.");

    // A follow-up is the same session and still marked, but the thread keeps its title.
    pipeline.llm.script({ content: "Still 42." });
    const second = dm(ALICE, channel, "and the median?", threadTs);
    await fixture.send(second.event);
    expect((await queued(second.eventId)).replyContext).toEqual({ threadTs, assistantThread: "1" });
    expect(await settled(second.eventId)).toBe("completed");
    expect(fixture.slack.callsTo("assistant.threads.setTitle").filter((call) => call.args.thread_ts === threadTs)).toHaveLength(1);
  });

  test("without the feature (no assistant_thread_started), a DM thread works as before: no marker, no title", async () => {
    const channel = "D0BOBDM002";
    const root = nextTs();
    const message = dm(BOB, channel, "```python\nprint('plain DM thread')\n```", root);
    await fixture.send(message.event);
    const request = await queued(message.eventId);
    expect(request.replyContext).toEqual({ threadTs: root });
    await said(channel, "plain DM thread");
    expect(fixture.slack.callsTo("assistant.threads.setTitle").filter((call) => call.args.thread_ts === root)).toEqual([]);
  });

  test("in a channel, /reset and /files answer ephemerally how to do it in the thread; nothing is queued", async () => {
    const before = await jobCount();
    const reset = await slash("/reset", "", CHANNEL);
    expect(reset.responseType).toBe("ephemeral");
    expect(reset.text).toContain(`<@${fixture.slack.botUserId}> reset`);
    const files = await slash("/files", "zip", CHANNEL);
    expect(files.text).toContain(`<@${fixture.slack.botUserId}> files zip`);
    const usage = await slash("/reset", "everything now", CHANNEL);
    expect(usage.text).toBe("Usage: /reset");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await jobCount()).toBe(before);
  });

  test("in the DM, slash commands act on its latest conversation: top level, then an assistant thread", async () => {
    const channel = "D0CAROLDM3";
    const carol = "U0CAROL003";
    const nothing = await slash("/files", "", channel, carol);
    expect(nothing.text).toMatch(/no conversation here yet/);

    const top = dm(carol, channel, "```python\nopen('/mnt/data/kept.txt', 'w').write('x')\nprint('written')\n```");
    await fixture.send(top.event);
    await settled(top.eventId);
    const files = await slash("/files", "", channel, carol);
    expect(files.text).toBe("On it.");
    const listing = await queued(files.eventId);
    expect(listing).toMatchObject({ kind: "files", text: "", conversation: { channelId: channel, threadId: channel }, replyContext: {} });
    await said(channel, "kept.txt");

    const threadTs = nextTs();
    await fixture.send(assistantThreadStarted({ user: carol, channel, threadTs, teamId: fixture.slack.teamId }));
    await fixture.slack.waitFor("assistant.threads.setSuggestedPrompts", (call) => call.args.thread_ts === threadTs);
    const inThread = dm(carol, channel, "```python\nprint('in the assistant thread')\n```", threadTs);
    await fixture.send(inThread.event);
    await settled(inThread.eventId);
    const exported = await slash("/export", "ZIP", channel, carol);
    expect(exported.text).toMatch(/thread we used last/);
    expect(await queued(exported.eventId)).toMatchObject({ kind: "export", text: "zip", conversation: { threadId: threadTs }, replyContext: { threadTs, assistantThread: "1" } });
    const reset = await slash("/reset", "", channel, carol);
    expect(await queued(reset.eventId)).toMatchObject({ kind: "reset", text: "", conversation: { threadId: threadTs } });
  });

  test("in a thread, a mention with the command word is the command", async () => {
    const root = nextTs();
    const ts = nextTs();
    await fixture.send(appMention({ user: ALICE, text: `<@${fixture.slack.botUserId}> files zip`, channel: CHANNEL, ts, threadTs: root }, fixture.slack.teamId));
    expect(await queued(`slack:${fixture.slack.teamId}:${CHANNEL}:${ts}`)).toMatchObject({ kind: "files", text: "zip", conversation: { threadId: root }, replyContext: { threadTs: root } });
    const ask = nextTs();
    pipeline.llm.script({ content: "Resetting means starting over." });
    await fixture.send(appMention({ user: ALICE, text: `<@${fixture.slack.botUserId}> what does reset mean?`, channel: CHANNEL, ts: ask, threadTs: root }, fixture.slack.teamId));
    expect((await queued(`slack:${fixture.slack.teamId}:${CHANNEL}:${ask}`)).kind).toBe("message");
    expect(await settled(`slack:${fixture.slack.teamId}:${CHANNEL}:${ask}`)).toBe("completed");
  });

  test("a 👍/👎 click is recorded per person and answer (a second click replaces the first) and `codebot usage feedback` shows it", async () => {
    const root = nextTs();
    const answerTs = nextTs();
    const eventId = `slack:${fixture.slack.teamId}:${CHANNEL}:${root}`;
    const block = feedbackBlock(eventId, { model: "stand-in-model", steps: 3 }) as { type: string; elements: Array<{ type: string; action_id: string; positive_button: { value: string }; negative_button: { value: string } }> };
    expect(block.type).toBe("context_actions");
    const buttons = block.elements[0]!;
    expect(buttons).toMatchObject({ type: "feedback_buttons", action_id: FEEDBACK_ACTION_ID });
    expect(buttons.positive_button.value.length).toBeLessThanOrEqual(2000);
    const click = (user: string, positive: boolean) =>
      fixture.interact(
        feedbackAction({ user, channel: CHANNEL, messageTs: answerTs, threadTs: root, actionId: buttons.action_id, value: positive ? buttons.positive_button.value : buttons.negative_button.value, teamId: fixture.slack.teamId, positive }),
      );
    const thanked = () => fixture.slack.callsTo("chat.postEphemeral").filter((call) => call.args.thread_ts === root && /Thanks for the feedback/.test(String(call.args.text)));

    await click(ALICE, true);
    await until("the thanks", () => (thanked().length >= 1 ? true : undefined));
    expect(thanked()[0]?.args.user).toBe(ALICE);
    const store = new FeedbackStore(pipeline.redis, pipeline.keys);
    const key = threadKey({ platform: "slack", workspaceId: fixture.slack.teamId, channelId: CHANNEL, threadId: root });
    expect(await store.thread(key)).toMatchObject([{ threadKey: key, eventId, userId: ALICE, rating: "up", model: "stand-in-model", steps: 3 }]);

    await click(ALICE, false);
    await click(BOB, false);
    await until("both later clicks", () => (thanked().length >= 3 ? true : undefined));
    const ratings = await store.thread(key);
    expect(ratings.map((rating) => [rating.userId, rating.rating])).toEqual([
      [ALICE, "down"],
      [BOB, "down"],
    ]);

    const report = await runCli(["usage", "feedback"], { env: pipeline.env });
    expect(report.code).toBe(0);
    expect(report.stdout).toContain("stand-in-model\tup 0\tdown 2\tratio 0%\tsteps 3.0");
    expect(report.stdout).toMatch(new RegExp(`\\tdown\\tstand-in-model\\tsteps 3\\tuser ${BOB}\\tthread ${key.replace(/\./g, "\\.")}`));
    const json = JSON.parse((await runCli(["usage", "feedback", "--json"], { env: pipeline.env })).stdout) as { models: Array<{ model: string; down: number }>; recent: Array<{ userId: string }> };
    expect(json.models.find((row) => row.model === "stand-in-model")?.down).toBe(2);
    expect(json.recent.slice(0, 2).map((row) => row.userId).sort()).toEqual([ALICE, BOB].sort());
  });
});
