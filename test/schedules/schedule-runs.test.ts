import { describe, expect, test } from "vitest";
import type { LocalReply } from "../../src/platforms/local/local-replies.js";
import { answerText, finalReply, localRequest } from "../support/local-turns.js";
import { usePipeline, type Pipeline } from "../support/pipeline-fixture.js";
import type { WorkerProcess } from "../support/worker-process.js";

/*
 * Schedules for real (#20): BullMQ's job schedulers in a private Redis, real `codebot worker`
 * processes (two at once), real sandboxes with durable workspaces. A schedule every 4 seconds (a
 * 6-field cron, allowed by SCHEDULE_MIN_INTERVAL_MINUTES=0.05, 3 s) counts its runs in a file of
 * the session; each run must be one turn (one answer per occurrence, the counter up by exactly
 * one), through a SIGTERM restart of every worker, behind a running turn of its thread. A second
 * schedule (a question the model stand-in has no answer for) fails at each run and must pause
 * itself after SCHEDULE_MAX_FAILURES. Seconds apart, its runs take seconds to watch, not minutes.
 */
const pipeline = usePipeline({ SCHEDULE_MIN_INTERVAL_MINUTES: "0.05", SCHEDULE_MAX_FAILURES: "2", SCHEDULE_TIMEZONE: "Europe/Berlin", QUEUE_LOCK_SECONDS: "5" });

/** The schedules' cadence: every 4 seconds, on the seconds divisible by 4. */
const EVERY = "*/4 * * * * *";
const PERIOD_MS = 4000;

const COUNTER = [
  "```python",
  "import os",
  "path = '/mnt/data/count.txt'",
  "n = int(open(path).read()) if os.path.exists(path) else 0",
  "open(path, 'w').write(str(n + 1))",
  "print(f'count={n + 1}')",
  "```",
].join("\n");

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends a command or message in a local thread and waits for its final reply. */
async function say(p: Pipeline, threadId: string, text: string, kind?: "schedule" | "schedules" | "unschedule" | "resume", userId = "U1"): Promise<{ text: string; at: number }> {
  const request = { ...localRequest(threadId, text, undefined, userId), ...(kind ? { kind } : {}) };
  await p.queue.enqueue(request);
  const { replies, at } = await finalReply(p, request.eventId, 120_000);
  return { text: answerText(replies), at };
}

interface Run {
  dueAt: number;
  replies: LocalReply[];
  /** When its final reply was written (ms); undefined while it has none. */
  endedAt?: number;
}

/** Every run of the schedule so far, by the local reply streams of its events (`schedule:<id>:<due time>`), in due order. */
async function runsOf(p: Pipeline, id: string): Promise<Run[]> {
  const prefix = p.keys.localReplies(`schedule:${id}:`);
  const streams: string[] = [];
  let cursor = "0";
  do {
    const [next, found] = await p.redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
    cursor = next;
    streams.push(...found);
  } while (cursor !== "0");
  const runs = await Promise.all(
    streams.map(async (key) => {
      const entries = await p.redis.xrange(key, "-", "+");
      const replies = entries.map(([, fields]) => JSON.parse(fields[1] ?? "{}") as LocalReply);
      const final = entries.findLast(([, fields]) => /"type":"(answer|fail)"/.test(fields[1] ?? ""));
      return { dueAt: Number(key.slice(prefix.length)), replies, endedAt: final ? Number(final[0].split("-")[0]) : undefined };
    }),
  );
  return runs.sort((a, b) => a.dueAt - b.dueAt);
}

/** Waits until `enough` holds of the schedule's runs so far (polled every half second). */
async function waitForRuns(p: Pipeline, id: string, what: string, enough: (runs: Run[]) => boolean, timeoutMs = 120_000): Promise<Run[]> {
  const started = Date.now();
  for (;;) {
    const runs = await runsOf(p, id);
    if (enough(runs)) return runs;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what} of ${id}: ${JSON.stringify(runs)}`);
    await sleep(500);
  }
}

const ended = (runs: Run[]) => runs.filter((run) => run.endedAt !== undefined);
const finals = (run: Run) => run.replies.filter((reply) => reply.type === "answer" || reply.type === "fail");
const scheduleId = (text: string) => /Scheduled `([a-z2-9]{6})`/.exec(text)?.[1];

describe("schedules, run by two workers", () => {
  let failingId = "";

  test("a schedule every 4 seconds runs once per occurrence, in its session, behind its thread's running turn, through a restart of every worker", async () => {
    const p = pipeline;
    const workers: WorkerProcess[] = [p.worker, await p.startWorker()];
    // Made by U7, who does nothing else: what the runs use is charged to them.
    const made = await say(p, "counter", `${EVERY}: ${COUNTER}`, "schedule", "U7");
    const id = scheduleId(made.text);
    expect(made.text, made.text).toMatch(/Scheduled `[a-z2-9]{6}`: every 4 seconds \(`\*\/4 \* \* \* \* \*`, times in Europe\/Berlin\)/);
    expect(made.text).toMatch(/Next runs: (\w{3} \d{4}-\d\d-\d\d \d\d:\d\d:\d\d(, )?){3}\./);
    // A turn of the counter's thread that runs across several occurrences: their runs wait behind it.
    const slowFrom = Date.now();
    const slow = await say(p, "counter", "```python\nimport time\ntime.sleep(10)\nprint('slow done')\n```");
    expect(slow.text).toContain("slow done");
    // The failing one, in a thread of its own: asserted by the next test.
    // The model stand-in has nothing scripted: each run's model call fails, and so the run.
    const failing = await say(p, "failing", `${EVERY}: weekly signups by channel, as a chart`, "schedule");
    failingId = scheduleId(failing.text) ?? "";
    expect(failingId, failing.text).not.toBe("");

    // Runs fall due while the slow turn runs: each ends after it (in thread order), none is lost.
    let runs = await waitForRuns(p, id!, "a run due after the slow turn", (all) => ended(all).some((run) => run.dueAt > slow.at));
    const behind = runs.filter((run) => run.dueAt > slowFrom + PERIOD_MS && run.dueAt < slow.at);
    expect(behind.length, JSON.stringify(runs)).toBeGreaterThanOrEqual(1);
    for (const run of behind) expect(run.endedAt!).toBeGreaterThan(slow.at);

    // Every worker stopped (SIGTERM: no run fired from then on, the session sleeps into its workspace), down across two occurrences or more, two new ones.
    const downAt = Date.now();
    await Promise.all(workers.map((worker) => worker.stop()));
    await sleep(2 * PERIOD_MS + 2000);
    const upAt = Date.now();
    const restarted = await Promise.all([p.startWorker(), p.startWorker()]);
    runs = await waitForRuns(p, id!, "two runs due after the restart", (all) => ended(all).filter((run) => run.dueAt > upAt).length >= 2);
    await Promise.all(restarted.map((worker) => worker.stop()));
    // Missed while no worker was up: run late, once, by a restarted worker (the one run BullMQ held), not a burst.
    const logs = restarted.flatMap((worker) => worker.logs().split("\n"));
    const fired = logs.filter((line) => line.includes(`"schedule":"${id}"`) && line.includes('"msg":"scheduled run enqueued')).map((line) => JSON.parse(line) as { msg: string; requestId: string });
    const firedLate = fired.filter((entry) => entry.msg === "scheduled run enqueued" && Number(entry.requestId.split(":")[2]) < upAt);
    expect(firedLate, JSON.stringify(fired)).toHaveLength(1);
    const missed = runs.find((run) => run.dueAt === Number(firedLate[0]!.requestId.split(":")[2]))!;
    expect(missed.dueAt).toBeGreaterThan(downAt);
    expect(missed.endedAt!).toBeGreaterThan(upAt);
    const occurrences = Math.floor(upAt / PERIOD_MS) - Math.floor(downAt / PERIOD_MS);
    expect(occurrences).toBeGreaterThanOrEqual(2);
    expect(runs.filter((run) => run.dueAt > downAt && run.dueAt < upAt).length).toBeLessThan(occurrences);
    // The audit line marks each run as scheduled, and which schedule's.
    const audits = logs.filter((line) => line.includes('"audit":"turn"') && line.includes(`"schedule":"${id}"`));
    expect(audits.length).toBeGreaterThanOrEqual(3);
    for (const line of audits) expect(JSON.parse(line)).toMatchObject({ scheduled: true, schedule: id, user: "U7", outcome: "answered" });

    // unschedule stops it: no run over three occurrences after.
    const workersAgain = await Promise.all([p.startWorker(), p.startWorker()]);
    const removed = await say(p, "counter", id!, "unschedule", "U7");
    expect(removed.text).toContain(`Removed schedule \`${id}\``);
    const before = (await runsOf(p, id!)).length;
    await sleep(3 * PERIOD_MS);
    runs = await runsOf(p, id!);
    expect(runs.length).toBeLessThanOrEqual(before + 0);
    const listed = await say(p, "counter", "", "schedules");
    expect(listed.text).toContain("This thread has no schedules");

    // Every run (before, behind the slow turn, the missed one, after the restart): ended, one final reply
    // per occurrence, each on its own 4-second occurrence, the counter up by one per run: 1, 2, 3, 4…
    expect(runs.length).toBeGreaterThanOrEqual(4);
    for (const run of runs) expect(run.endedAt, JSON.stringify(run)).toBeDefined();
    for (const run of runs) expect(finals(run)).toHaveLength(1);
    expect(new Set(runs.map((run) => run.dueAt)).size).toBe(runs.length);
    for (const run of runs) expect(run.dueAt % PERIOD_MS).toBe(0);
    const counts = runs.map((run) => Number(/count=(\d+)/.exec(answerText(run.replies))?.[1]));
    expect(counts).toEqual(counts.map((_, i) => i + 1));
    // Each is headed as a scheduled run of the schedule.
    for (const run of runs) expect(answerText(run.replies)).toContain(`**Scheduled run of \`${id}\`** (every 4 seconds)`);
    // The session is untouched: the counter file is still there, as the last run left it.
    const after = await say(p, "counter", "```python\nprint('file=' + open('/mnt/data/count.txt').read())\n```");
    expect(after.text).toContain(`file=${runs.length}`);
    await Promise.all(workersAgain.map((worker) => worker.stop()));
    // The runs were U7's turns: their execution time is on U7's budget counters.
    const day = `day:${new Date().toISOString().slice(0, 10)}`;
    expect(Number((await p.redis.hgetall(p.keys.budget("user:local:U7", day))).exec_ms ?? 0)).toBeGreaterThan(0);
  }, 300_000);

  test("a schedule whose runs fail pauses itself after SCHEDULE_MAX_FAILURES (2) and says so; resume starts it again", async () => {
    const p = pipeline;
    expect(failingId).not.toBe("");
    const worker = await p.startWorker();
    const runs = await waitForRuns(p, failingId, "two failed runs", (all) => ended(all).length >= 2);
    const texts = runs.map((run) => answerText(run.replies));
    for (const text of texts.slice(0, 2)) expect(text).toMatch(new RegExp(`^FAIL Scheduled run of ${failingId} \\(every 4 seconds\\): `));
    expect(texts.join("\n")).toContain(`failed 2 times in a row, so it is paused: \`resume ${failingId}\``);
    // Paused: no run after the second, over three occurrences.
    const count = runs.length;
    await sleep(3 * PERIOD_MS);
    expect((await runsOf(p, failingId)).length).toBe(count);
    const listed = await say(p, "failing", "", "schedules");
    expect(listed.text).toContain("**paused** after 2 failed runs in a row");
    const resumed = await say(p, "failing", failingId, "resume");
    expect(resumed.text).toContain(`Resumed \`${failingId}\``);
    // Resumed: it runs again (and, its failures forgotten, fails again before it pauses again).
    await waitForRuns(p, failingId, "a run after the resume", (all) => ended(all).length > count);
    const again = await say(p, "failing", "all", "unschedule");
    expect(again.text).toContain("Removed 1 schedule of this thread");
    await worker.stop();
  }, 200_000);
});
