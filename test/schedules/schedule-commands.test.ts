import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { chatRequestSchema, type ChatRequest, type ChatRequestInput } from "../../src/core/chat-request.js";
import type { Answer, Delivery, Failure } from "../../src/core/reply.js";
import { createLogger } from "../../src/log.js";
import { createRedis } from "../../src/redis/redis-connection.js";
import { BullSchedules } from "../../src/schedules/bullmq-schedules.js";
import type { RulesByPlatform } from "../../src/schedules/schedule-access.js";
import { ScheduleCommands } from "../../src/schedules/schedule-commands.js";
import { scheduledRequest } from "../../src/schedules/schedule-runner.js";
import { ScheduledTurns } from "../../src/schedules/scheduled-turns.js";
import { startRedis, type TestRedis } from "../support/redis-server.js";
import { runCli } from "../support/run-cli.js";

/*
 * The schedule commands and the judging of a run, on a real Redis and BullMQ's real job schedulers:
 * what is refused at creation (and that nothing is kept then), who may remove what, what a DM's
 * `schedules` lists, a run refused once its creator has lost access, and the admin's CLI.
 */
let server: TestRedis;
let redis: Redis;
let schedules: BullSchedules;
const prefix = `s${randomBytes(4).toString("hex")}`;
const log = createLogger("silent");
const rules: RulesByPlatform = { slack: { workspaces: [], channels: [], users: ["U1", "U2", "UADMIN"], allowDms: true } };

/** What the commands answered, as the platform would have posted it. */
class Replies implements Delivery {
  readonly answers: string[] = [];
  readonly failures: Failure[] = [];
  async status(): Promise<void> {}
  async event(): Promise<void> {}
  async answer(_request: ChatRequest, answer: Answer): Promise<void> {
    this.answers.push(answer.markdown);
  }
  async fail(_request: ChatRequest, failure: Failure): Promise<void> {
    this.failures.push(failure);
  }
}

let events = 0;
function slackRequest(kind: ChatRequest["kind"], text: string, user = "U1", thread = "1700000000.000100", dm = false): ChatRequest {
  const input: ChatRequestInput = {
    eventId: `slack:T1:e${++events}`,
    kind,
    user: { id: user, name: user === "U1" ? "Ada" : user === "U2" ? "Grace" : "Root" },
    conversation: { platform: "slack", workspaceId: "T1", channelId: dm ? "D1" : "C1", threadId: thread },
    text,
    replyContext: { threadTs: thread },
    receivedAt: Date.now(),
    access: { isDm: dm, channelId: dm ? "D1" : "C1" },
  };
  return chatRequestSchema.parse(input);
}

function commands(minIntervalMinutes = 15): ScheduleCommands {
  return new ScheduleCommands({ schedules, rules, timeZone: "Europe/Berlin", minIntervalMinutes, admins: ["slack:UADMIN"] });
}

async function run(kind: ChatRequest["kind"], text: string, options: { user?: string; thread?: string; dm?: boolean; min?: number } = {}): Promise<string> {
  const replies = new Replies();
  await commands(options.min).run(slackRequest(kind, text, options.user, options.thread, options.dm), replies);
  return replies.answers.join("\n");
}

const idOf = (text: string) => /Scheduled `([a-z2-9]{6})`/.exec(text)?.[1] ?? "";

beforeAll(async () => {
  server = await startRedis();
  redis = createRedis(server.url);
  schedules = new BullSchedules({ redis, prefix, maxPerUser: 3, maxFailures: 2 });
});

afterAll(async () => {
  await schedules.close();
  redis.disconnect();
  await server.stop();
});

describe("schedule commands", () => {
  test("a new schedule is confirmed with its id, words, cron, zone and next three runs, and BullMQ holds its next run", async () => {
    const text = await run("schedule", "every monday at 08:30: weekly signups by channel, as a chart");
    const id = idOf(text);
    expect(text).toMatch(/^Scheduled `[a-z2-9]{6}`: every Monday at 08:30 \(`30 8 \* \* 1`, times in Europe\/Berlin\)\.\nNext runs: Mon \d{4}-\d\d-\d\d 08:30, Mon \d{4}-\d\d-\d\d 08:30, Mon \d{4}-\d\d-\d\d 08:30\./);
    const scheduler = await schedules.queue.getJobScheduler(id);
    expect(scheduler?.pattern).toBe("30 8 * * 1");
    expect(scheduler?.tz).toBe("Europe/Berlin");
    expect(scheduler?.next).toBeGreaterThan(Date.now());
    expect((await schedules.get(id))?.next).toBe(scheduler?.next);
    expect(await schedules.remove(id)).toBe(true);
    expect(await schedules.queue.getJobScheduler(id)).toBeUndefined();
  });

  test("a cron with a seconds field: refused at the default minimum; at a fraction (0.05 = 3 s), taken and said to the second", async () => {
    expect(await run("schedule", "*/4 * * * * *: report")).toBe("Not scheduled: every 4 seconds runs 4 seconds apart at its closest, and schedules here run at most every 15 minutes.");
    expect(await run("schedule", "every 2 seconds: report", { min: 0.05 })).toBe("Not scheduled: every 2 seconds runs 2 seconds apart at its closest, and schedules here run at most every 3 seconds.");
    const text = await run("schedule", "*/4 * * * * *: report", { min: 0.05 });
    const id = idOf(text);
    expect(text).toMatch(/^Scheduled `[a-z2-9]{6}`: every 4 seconds \(`\*\/4 \* \* \* \* \*`, times in Europe\/Berlin\)\.\nNext runs: (\w{3} \d{4}-\d\d-\d\d \d\d:\d\d:\d[02468](, )?){3}\./);
    const scheduler = await schedules.queue.getJobScheduler(id);
    expect(scheduler?.pattern).toBe("*/4 * * * * *");
    // Its next run is on a second divisible by 4, within 4 s.
    expect(scheduler!.next! % 4000).toBe(0);
    expect(scheduler!.next! - Date.now()).toBeLessThanOrEqual(4000);
    const listed = await run("schedules", "");
    expect(listed).toContain(`\`${id}\` every 4 seconds (\`*/4 * * * * *\`, Europe/Berlin)`);
    expect(listed).toMatch(/next \w{3} \d{4}-\d\d-\d\d \d\d:\d\d:\d[02468] \(in under a minute\)/);
    expect(await schedules.remove(id)).toBe(true);
  });

  test("refusals say why, and keep nothing", async () => {
    const before = await schedules.list("all");
    expect(await run("schedule", "every day at 09:00")).toMatch(/^Not scheduled: Say when, a colon, then what/);
    expect(await run("schedule", "sometimes: report")).toMatch(/^Not scheduled: I can't read `sometimes` as a time/);
    expect(await run("schedule", "61 * * * *: report")).toBe("Not scheduled: `61 * * * *` is not a valid cron expression.");
    expect(await run("schedule", "every 5 minutes: report")).toBe("Not scheduled: every 5 minutes runs 5 minutes apart at its closest, and schedules here run at most every 15 minutes.");
    expect(await run("schedule", "every day at 09:00: report", { user: "U9" })).toBe("Not scheduled: Sorry, you're not on the list of people who can use me.");
    expect(await schedules.list("all")).toEqual(before);
    expect(await schedules.queue.getJobSchedulersCount()).toBe(before.length);
  });

  test("SCHEDULE_MAX_PER_USER (3 here): the fourth is refused; another person may still make theirs", async () => {
    const made = [];
    for (const thread of ["1.1", "1.2", "1.3"]) made.push(idOf(await run("schedule", "every day at 09:00: report", { thread })));
    expect(made.every(Boolean)).toBe(true);
    expect(await run("schedule", "every day at 10:00: report", { thread: "1.4" })).toMatch(/^Not scheduled: you have 3 schedules, the most one person may have/);
    expect(idOf(await run("schedule", "every day at 10:00: report", { thread: "1.1", user: "U2" }))).not.toBe("");
    // In a DM, `schedules` lists all of the person's, in every thread; in a thread, that thread's.
    const mine = await run("schedules", "", { dm: true, thread: "9.9" });
    expect(mine).toMatch(/^Your schedules \(3\), in all threads:/);
    for (const id of made) expect(mine).toContain(`\`${id}\``);
    const thread = await run("schedules", "", { thread: "1.1" });
    expect(thread).toMatch(/^This thread's schedules \(2\):/);
    expect(thread).toContain("by Grace");
  });

  test("only the creator or an admin removes a schedule; unschedule all takes the person's own", async () => {
    const grace = (await schedules.list({ owner: "slack:U2" }))[0]!;
    expect(await run("unschedule", grace.id, { thread: "1.1" })).toBe(`Only Grace, who made schedule \`${grace.id}\`, or an admin can change it.`);
    // Elsewhere, another's id is as good as unknown.
    expect(await run("unschedule", grace.id, { thread: "7.7" })).toMatch(/^No schedule `[a-z2-9]{6}`/);
    expect(await run("unschedule", "all", { thread: "1.1" })).toMatch(/^Removed 1 schedule of this thread \(`[a-z2-9]{6}`\); 1 made by others stay\./);
    expect(await run("unschedule", grace.id, { thread: "1.1", user: "UADMIN" })).toMatch(/^Removed schedule `[a-z2-9]{6}` \(every day at 10:00\): it runs no more\. Its thread's session and files are untouched\./);
    expect((await schedules.list({ owner: "slack:U1" })).length).toBe(2);
  });

  test("a run whose creator has lost access is refused, said in the thread, and counted towards the pause", async () => {
    const mine = (await schedules.list({ owner: "slack:U1" }))[0]!;
    const revoked: RulesByPlatform = { slack: { ...rules.slack!, users: ["U2"] } };
    const turns = new ScheduledTurns({ schedules, rules: revoked, maxFailures: 2, log });
    const runs: string[] = [];
    for (const dueAt of [Date.UTC(2030, 0, 1, 8), Date.UTC(2030, 0, 2, 8)]) {
      const replies = new Replies();
      const admission = await turns.admit(chatRequestSchema.parse(scheduledRequest(mine, dueAt, Date.now())), replies);
      expect(admission.run).toBe(false);
      runs.push(replies.failures.map((failure) => failure.message).join("\n"));
    }
    expect(runs[0]).toBe(
      `Scheduled run of ${mine.id} (every day at 09:00): Not run: Ada, whose schedule this is, may not use me here any more ("Sorry, you're not on the list of people who can use me."). \`unschedule ${mine.id}\` removes it.`,
    );
    expect(runs[1]).toContain(`failed 2 times in a row, so it is paused: \`resume ${mine.id}\` starts it again`);
    const paused = await schedules.get(mine.id);
    expect(paused).toMatchObject({ paused: true, failures: 2, last: { outcome: "refused" } });
    expect(await schedules.queue.getJobScheduler(mine.id)).toBeUndefined();
    // With access back, resume starts it again (its failures forgotten, a job scheduler again).
    expect(await run("resume", mine.id, { thread: mine.conversation.threadId })).toMatch(new RegExp(`^Resumed \`${mine.id}\` \\(every day at 09:00\\), its failures forgotten: next `));
    expect((await schedules.queue.getJobScheduler(mine.id))?.next).toBeGreaterThan(Date.now());
  });

  test("codebot schedules list [--json] and remove ID, for the admin", async () => {
    const env = { REDIS_URL: server.url, QUEUE_PREFIX: prefix, CODEBOT_ENV_FILE: "none" };
    const listed = await runCli(["schedules", "list", "--json"], { env });
    expect(listed.code, listed.stderr).toBe(0);
    const all = JSON.parse(listed.stdout) as Array<{ id: string; cron: string; nextAt: string | null; creator: { id: string } }>;
    expect(all.length).toBe((await schedules.list("all")).length);
    expect(all[0]!.nextAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    const text = await runCli(["schedules", "list"], { env });
    expect(text.stdout).toContain(`${all[0]!.id}  every day at 09:00 (0 9 * * *, Europe/Berlin)`);
    const removed = await runCli(["schedules", "remove", all[0]!.id], { env });
    expect(removed.stdout).toContain(`Removed schedule ${all[0]!.id}`);
    expect(await schedules.get(all[0]!.id)).toBeUndefined();
    const again = await runCli(["schedules", "remove", all[0]!.id], { env });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`No schedule ${all[0]!.id}`);
    expect((await runCli(["schedules", "remove", "not-an-id!"], { env })).code).toBe(2);
  });
});
