import { describe, expect, test } from "vitest";
import type { LocalReply } from "../../src/platforms/local/local-replies.js";
import { answerText, finalReply, localRequest } from "../support/local-turns.js";
import { usePipeline, type Pipeline } from "../support/pipeline-fixture.js";
import type { WorkerProcess } from "../support/worker-process.js";

/*
 * Schedules for real (#20): BullMQ's job schedulers in a private Redis, real `codebot worker`
 * processes (two at once), real sandboxes with durable workspaces. A schedule every minute counts
 * its runs in a file of the session; each run must be one turn (one answer per occurrence, the
 * counter up by exactly one), through a SIGTERM restart of every worker, behind a running turn of
 * its thread. A second schedule (a question the model stand-in has no answer for) fails at each run and must pause itself after SCHEDULE_MAX_FAILURES.
 */
const pipeline = usePipeline({ SCHEDULE_MIN_INTERVAL_MINUTES: "1", SCHEDULE_MAX_FAILURES: "2", SCHEDULE_TIMEZONE: "Europe/Berlin", QUEUE_LOCK_SECONDS: "5" });

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

async function waitForRuns(p: Pipeline, id: string, count: number, timeoutMs: number): Promise<Run[]> {
  const started = Date.now();
  for (;;) {
    const runs = await runsOf(p, id);
    if (runs.filter((run) => run.endedAt !== undefined).length >= count) return runs;
    if (Date.now() - started > timeoutMs) throw new Error(`only ${runs.length} runs of ${id}: ${JSON.stringify(runs)}`);
    await sleep(500);
  }
}

const finals = (run: Run) => run.replies.filter((reply) => reply.type === "answer" || reply.type === "fail");
const scheduleId = (text: string) => /Scheduled `([a-z2-9]{6})`/.exec(text)?.[1];

describe("schedules, run by two workers", () => {
  let failingId = "";

  test("a schedule every minute runs once per occurrence, in its session, behind its thread's running turn, through a restart of every worker", async () => {
    const p = pipeline;
    const workers: WorkerProcess[] = [p.worker, await p.startWorker()];
    // Start 15-25 s before a minute turns, so the first run falls due while the slow turn below runs.
    while (new Date().getSeconds() < 35 || new Date().getSeconds() > 45) await sleep(500);
    // Made by U7, who does nothing else: what the runs use is charged to them.
    const made = await say(p, "counter", `every minute: ${COUNTER}`, "schedule", "U7");
    const id = scheduleId(made.text);
    expect(made.text, made.text).toMatch(/Scheduled `[a-z2-9]{6}`: every minute \(`\* \* \* \* \*`, times in Europe\/Berlin\)/);
    expect(made.text).toMatch(/Next runs: (\w{3} \d{4}-\d\d-\d\d \d\d:\d\d(, )?){3}\./);
    // The failing one, in a thread of its own: asserted by the next test.
    // The model stand-in has nothing scripted: each run's model call fails, and so the run.
    const failing = await say(p, "failing", "every minute: weekly signups by channel, as a chart", "schedule");
    failingId = scheduleId(failing.text) ?? "";
    expect(failingId, failing.text).not.toBe("");
    // A turn of the counter's thread that runs across the minute's turn: the run waits behind it.
    const slow = await say(p, "counter", "```python\nimport time\ntime.sleep(30)\nprint('slow done')\n```");
    expect(slow.text).toContain("slow done");

    let runs = await waitForRuns(p, id!, 2, 150_000);
    expect(runs[0]!.endedAt!).toBeGreaterThan(slow.at);
    expect(runs[0]!.dueAt).toBeLessThan(slow.at);

    // Every worker stopped (SIGTERM: the session sleeps into its workspace), down across a minute's turn, two new ones.
    await Promise.all(workers.map((worker) => worker.stop()));
    const downAt = Date.now();
    const nextMinute = Math.ceil(downAt / 60_000) * 60_000;
    await sleep(nextMinute - downAt + 20_000);
    const upAt = Date.now();
    const restarted = [await p.startWorker(), await p.startWorker()];
    runs = await waitForRuns(p, id!, 4, 150_000);
    await Promise.all(restarted.map((worker) => worker.stop()));

    const ended = runs.filter((run) => run.endedAt !== undefined);
    // One final reply per occurrence, each occurrence on its own minute, the counter up by one per run: 1, 2, 3, 4…
    for (const run of ended) expect(finals(run)).toHaveLength(1);
    expect(new Set(ended.map((run) => run.dueAt)).size).toBe(ended.length);
    for (const run of ended) expect(run.dueAt % 60_000).toBe(0);
    const counts = ended.map((run) => Number(/count=(\d+)/.exec(answerText(run.replies))?.[1]));
    expect(counts).toEqual(counts.map((_, i) => i + 1));
    // Each is headed as a scheduled run of the schedule.
    for (const run of ended) expect(answerText(run.replies)).toContain(`**Scheduled run of \`${id}\`** (every minute)`);
    // Missed while no worker was up: run late once, not a burst.
    const missed = ended.filter((run) => run.dueAt > downAt && run.dueAt < upAt);
    expect(missed).toHaveLength(1);
    expect(missed[0]!.endedAt!).toBeGreaterThan(upAt);
    // The audit line marks each run as scheduled, and which schedule's.
    const audits = restarted.flatMap((worker) => worker.logs().split("\n")).filter((line) => line.includes('"audit":"turn"') && line.includes(`"schedule":"${id}"`));
    expect(audits.length).toBeGreaterThanOrEqual(2);
    for (const line of audits) expect(JSON.parse(line)).toMatchObject({ scheduled: true, schedule: id, user: "U7", outcome: "answered" });

    // unschedule stops it: no run after the next minute turns.
    const workersAgain = [await p.startWorker(), await p.startWorker()];
    const removed = await say(p, "counter", id!, "unschedule", "U7");
    expect(removed.text).toContain(`Removed schedule \`${id}\``);
    const before = (await runsOf(p, id!)).length;
    await sleep(65_000);
    expect((await runsOf(p, id!)).length).toBeLessThanOrEqual(before + 0);
    const listed = await say(p, "counter", "", "schedules");
    expect(listed.text).toContain("This thread has no schedules");
    // The session is untouched: the counter file is still there.
    const after = await say(p, "counter", "```python\nprint('file=' + open('/mnt/data/count.txt').read())\n```");
    expect(after.text).toContain(`file=${counts.at(-1)}`);
    await Promise.all(workersAgain.map((worker) => worker.stop()));
    // The runs were U7's turns: their execution time is on U7's budget counters.
    const day = `day:${new Date().toISOString().slice(0, 10)}`;
    expect(Number((await p.redis.hgetall(p.keys.budget("user:local:U7", day))).exec_ms ?? 0)).toBeGreaterThan(0);
  }, 600_000);

  test("a schedule whose runs fail pauses itself after SCHEDULE_MAX_FAILURES (2) and says so; resume starts it again", async () => {
    const p = pipeline;
    expect(failingId).not.toBe("");
    const worker = await p.startWorker();
    const runs = await waitForRuns(p, failingId, 2, 150_000);
    const texts = runs.map((run) => answerText(run.replies));
    for (const text of texts.slice(0, 2)) expect(text).toMatch(new RegExp(`^FAIL Scheduled run of ${failingId} \\(every minute\\): `));
    expect(texts.join("\n")).toContain(`failed 2 times in a row, so it is paused: \`resume ${failingId}\``);
    // Paused: no run after the second, over a minute's turn.
    const count = runs.length;
    await sleep(65_000);
    expect((await runsOf(p, failingId)).length).toBe(count);
    const listed = await say(p, "failing", "", "schedules");
    expect(listed.text).toContain("**paused** after 2 failed runs in a row");
    const resumed = await say(p, "failing", failingId, "resume");
    expect(resumed.text).toContain(`Resumed \`${failingId}\``);
    const again = await say(p, "failing", "all", "unschedule");
    expect(again.text).toContain("Removed 1 schedule of this thread");
    await worker.stop();
  }, 400_000);
});
