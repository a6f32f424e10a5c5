import { describe, expect, test } from "vitest";
import { answerIn } from "../support/slack-answers.js";
import { useSlackBot } from "../support/slack-bot-fixture.js";
import { useSlashResponses } from "../support/slash-responses.js";
import { appMention, blockActions, slashCommand } from "../support/stand-ins/slack-events.js";

/*
 * Schedules in Slack, end to end (#20): a real bot and worker against the Slack Web API stand-in.
 * A mention makes a schedule; its runs are turns of the thread, headed, with "Stop this schedule";
 * the button acts for the creator only; a creator dropped from SLACK_ALLOWED_USERS has the next
 * run refused in the thread; a person the rules don't allow can't make one.
 */
const CHANNEL = "C0SCHEDULE";
const ALICE = "U0ALICE001";
const BOB = "U0BOB00001";
const MALLORY = "U0MALLORY1";
let clock = 1_740_000_000;
// Runs seconds apart (a 6-field cron, allowed down to 3 s): its runs are watched in seconds, not minutes.
const fixture = useSlackBot({ SCHEDULE_MIN_INTERVAL_MINUTES: "0.05", SLACK_ALLOWED_USERS: `${ALICE},${BOB}`, SCHEDULE_TIMEZONE: "UTC" });
const PERIOD_MS = 5000;

function mention(user: string, text: string, threadTs?: string): string {
  const ts = `${++clock}.000500`;
  void fixture.send(appMention({ user, text: `<@${fixture.slack.botUserId}> ${text}`, channel: CHANNEL, ts, ...(threadTs ? { threadTs } : {}) }, fixture.slack.teamId));
  return threadTs ?? ts;
}

/** Where slash commands' response_url points: every ephemeral answer the bot sends there. */
const responses = useSlashResponses();

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Sends a slash command as Alice; resolves with the ephemeral answer posted to its response_url. */
async function slash(command: string, text: string, channel: string): Promise<string> {
  const path = `/respond/${Math.random().toString(36).slice(2)}`;
  await fixture.command(slashCommand({ command, text, user: ALICE, channel, teamId: fixture.slack.teamId, responseUrl: `${responses.base}${path}` }));
  return String((await until(`an answer to ${command}`, () => responses.answered.find((entry) => entry.path === path))).body.text);
}

/** Waits until the bot said something matching in the channel (a post or an update). */
const said = (channel: string, pattern: RegExp) =>
  until(`${pattern} in ${channel}`, () => fixture.slack.calls.find((call) => call.method.startsWith("chat.") && call.args.channel === channel && pattern.test(JSON.stringify(call.args))), 60_000);

type Block = { type: string; elements?: Array<{ action_id?: string; value?: string }> };

/** Presses "Stop this schedule" under the answer as `user`; returns what they were told, alone. */
async function pressStopSchedule(answerTs: string, threadTs: string, scheduleId: string, user: string): Promise<string> {
  const before = fixture.slack.callsTo("chat.postEphemeral").length;
  const response = await fixture.interact(blockActions({ user, channel: CHANNEL, messageTs: answerTs, actionId: "codebot_schedule_stop", value: scheduleId, teamId: fixture.slack.teamId, threadTs }));
  expect(response.status).toBe(200);
  const told = await fixture.slack.waitFor("chat.postEphemeral", (call) => call.args.user === user && fixture.slack.callsTo("chat.postEphemeral").indexOf(call) >= before);
  return String(told.args.text);
}

describe("Slack: schedules", () => {
  test("made by a mention; runs headed in the thread with Stop this schedule; refused once the creator loses access; stopped by its creator only", async () => {
    const thread = mention(ALICE, "schedule */5 * * * * *: ```python\nprint('tick')\n```");
    const confirmation = await answerIn(fixture.slack, thread, /Scheduled `[a-z2-9]{6}`/, 60_000);
    const id = /Scheduled `([a-z2-9]{6})`/.exec(confirmation.markdown)![1]!;
    expect(confirmation.markdown).toMatch(/every 5 seconds \(`\*\/5 \* \* \* \* \*`, times in UTC\)\.\nNext runs: \w{3} \d{4}-\d\d-\d\d \d\d:\d\d:\d[05], /);

    // A run: a turn of the thread, headed, with the button whose value is the schedule's id.
    const run = await answerIn(fixture.slack, thread, new RegExp(`Scheduled run of \`${id}\``), 100_000);
    expect(run.markdown).toContain("tick");
    const blocks = (run.call?.args.blocks ?? run.stream?.stopArgs?.blocks ?? []) as Block[];
    const button = blocks.flatMap((block) => block.elements ?? []).find((element) => element.action_id === "codebot_schedule_stop");
    expect(button?.value).toBe(id);

    // Someone else's press is refused, to them alone; the schedule stays.
    expect(await pressStopSchedule(run.ts, thread, id, BOB)).toMatch(new RegExp(`^Only \\S*${ALICE}\\S* \\(who made schedule ${id}\\) or an admin can stop it\\.$`));

    // Alice is dropped from SLACK_ALLOWED_USERS (the worker restarted with the new list): the next run is refused, in the thread.
    await fixture.pipeline.worker.stop();
    const worker = await fixture.pipeline.startWorker({ SLACK_ALLOWED_USERS: BOB });
    const refused = await answerIn(fixture.slack, thread, new RegExp(`Scheduled run of ${id} \\(every 5 seconds\\): Not run: .*may not use me here any more`), 100_000);
    expect(refused.markdown + refused.text).toContain(`unschedule ${id}`);

    // Her own press removes it (the bot still lets her in): told so, alone; it runs no more.
    expect(await pressStopSchedule(run.ts, thread, id, ALICE)).toBe(`Schedule ${id} (every 5 seconds) is removed: it runs no more. This thread's session and files are untouched.`);
    // A refusal judged just before the removal may still be on its way: counted after a second, then none over three occurrences.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const count = fixture.slack.calls.filter((call) => JSON.stringify(call.args).includes(`Scheduled run of`)).length;
    await new Promise((resolve) => setTimeout(resolve, 3 * PERIOD_MS));
    expect(fixture.slack.calls.filter((call) => JSON.stringify(call.args).includes(`Scheduled run of`)).length).toBe(count);
    await worker.stop();
  }, 400_000);

  test("a person the access rules don't allow can't make a schedule: refused with the reason", async () => {
    mention(MALLORY, "schedule every day at 09:00: report");
    const refused = await fixture.slack.waitFor("chat.postEphemeral", (call) => call.args.user === MALLORY, 30_000).catch(() => fixture.slack.waitFor("chat.postMessage", (call) => JSON.stringify(call.args).includes("not on the list"), 30_000));
    expect(JSON.stringify(refused.args)).toContain("not on the list of people who can use me");
  }, 60_000);

  test("/schedule, /schedules and /unschedule in the DM with the bot; in a channel, a hint to use the words in a thread", async () => {
    const dm = "D0ALICEDM1";
    // The first test stopped its workers: one with the fixture's own settings.
    const worker = await fixture.pipeline.startWorker();
    expect(await slash("/schedule", "every day at 09:00: daily signups", dm)).toBe("On it.");
    const made = await said(dm, /Scheduled `[a-z2-9]{6}`: every day at 09:00/);
    const id = /Scheduled `([a-z2-9]{6})`/.exec(JSON.stringify(made.args))![1]!;
    expect(await slash("/schedules", "", dm)).toBe("On it.");
    await said(dm, new RegExp(`Your schedules \\(1\\), in all threads:.*${id}`));
    expect(await slash("/unschedule", id, dm)).toBe("On it.");
    await said(dm, new RegExp(`Removed schedule .${id}.`));
    await worker.stop();
    expect(await slash("/schedule", "every day at 09:00: report", CHANNEL)).toMatch(/mention me with the command instead: <@\w+> schedule every day at 09:00: report$/);
  }, 120_000);
});
