import { randomUUID } from "node:crypto";
import Docker from "dockerode";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { threadKey } from "../../src/core/chat-request.js";
import { ThreadOrder } from "../../src/queue/thread-order.js";
import { requestCancel } from "../../src/queue/cancellation.js";
import { answerText, finalReply as finalReplyOf, localRequest } from "../support/local-turns.js";
import { usePipeline } from "../support/pipeline-fixture.js";

const pipeline = usePipeline({ QUEUE_LOCK_SECONDS: "2", WORKER_CONCURRENCY: "4" });

const request = localRequest;
const finalReply = (eventId: string, timeoutMs?: number) => finalReplyOf(pipeline, eventId, timeoutMs);

describe("the queue under pressure", () => {
  test("the same event id enqueued twice runs once", async () => {
    const req = request("dup-thread", "```python\nprint('once')\n```");
    expect((await pipeline.queue.enqueue(req)).duplicate).toBe(false);
    expect((await pipeline.queue.enqueue(req)).duplicate).toBe(true);
    const { replies } = await finalReply(req.eventId);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const all = await pipeline.redis.xrange(pipeline.keys.localReplies(req.eventId), "-", "+");
    expect(all.length).toBe(replies.length);
    expect(replies.filter((reply) => reply.type === "answer")).toHaveLength(1);
  });

  test("two turns of one thread run in order, while another thread runs alongside", async () => {
    // Both sessions exist first, so a sandbox's cold start doesn't blur the timing.
    const warm = [request("ordered", "```python\n1\n```"), request("other-thread", "```python\n1\n```")];
    for (const req of warm) await pipeline.queue.enqueue(req);
    await Promise.all(warm.map((req) => finalReply(req.eventId)));
    const first = request("ordered", "```python\nimport time\ntime.sleep(3)\nstep = 'first'\nprint(step)\n```");
    const second = request("ordered", "```python\nprint('after', step)\n```");
    const other = request("other-thread", "```python\nprint('independent')\n```");
    await pipeline.queue.enqueue(first);
    await pipeline.queue.enqueue(second);
    await pipeline.queue.enqueue(other);
    const [a, b, c] = await Promise.all([finalReply(first.eventId), finalReply(second.eventId), finalReply(other.eventId)]);
    expect(answerText(b.replies)).toContain("after first");
    expect(a.at).toBeLessThanOrEqual(b.at);
    expect(c.at).toBeLessThan(a.at); // the other thread did not wait for the slow one
  });

  test("a turn can be cancelled while its code runs", async () => {
    const req = request("cancel-thread", "```python\nimport time\ntime.sleep(60)\n```");
    await pipeline.queue.enqueue(req);
    await pipeline.worker.waitForLog(new RegExp(`"requestId":"${req.eventId}".*"msg":"turn started"`));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const started = Date.now();
    await requestCancel(pipeline.redis, pipeline.keys, req.eventId);
    const { replies } = await finalReply(req.eventId);
    expect(answerText(replies)).toContain("FAIL Stopped: the request was cancelled.");
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  test("enqueues cut between taking the thread's turn number and adding the job don't stop the thread", async () => {
    const key = threadKey(request("gap-thread", "").conversation);
    // Two enqueues interrupted by a lost connection: one after taking its number, one after also
    // recording its job id; neither job was added.
    await pipeline.redis.incr(pipeline.keys.thread(key, "seq"));
    await new ThreadOrder(pipeline.redis, pipeline.keys).assign(key, "ev-never-added");
    const req = request("gap-thread", "```python\nprint('not stuck')\n```");
    const started = Date.now();
    await pipeline.queue.enqueue(req);
    const { replies, at } = await finalReply(req.eventId, 60_000);
    expect(answerText(replies)).toContain("not stuck");
    expect(at - started).toBeLessThan(2 * (2_000 + 1_000) + 4_000); // two gaps, each skipped after its 2 s grace
    expect(pipeline.worker.logs()).toMatch(/never enqueued or was lost; skipping it/);
  });

  test("a worker killed mid-turn: another worker takes the turn over promptly, and the code runs once", async () => {
    const victim = pipeline.worker;
    const cell = "import time\nopen('/mnt/data/runs.txt', 'a').write('ran\\n')\ntime.sleep(4)\nprint('survived the crash')";
    const req = request("crash-thread", `\`\`\`python\n${cell}\n\`\`\``);
    await pipeline.queue.enqueue(req);
    await victim.waitForLog(new RegExp(`"requestId":"${req.eventId}".*"msg":"turn started"`));
    await new Promise((resolve) => setTimeout(resolve, 500)); // the cell is running in the sandbox
    const killedAt = Date.now();
    await victim.kill();
    const rescuer = await pipeline.startWorker({ QUEUE_LOCK_SECONDS: "2" });
    pipeline.worker = rescuer;
    const { replies, at } = await finalReply(req.eventId, 120_000);
    expect(answerText(replies)).toContain("survived the crash");
    expect(rescuer.logs()).toContain(req.eventId);
    expect(at - killedAt).toBeLessThan(2_000 + 10_000); // QUEUE_LOCK_SECONDS + a few seconds (worker start included)
    const check = request("crash-thread", "```python\nprint(open('/mnt/data/runs.txt').read().count('ran'))\n```");
    await pipeline.queue.enqueue(check);
    expect(answerText((await finalReply(check.eventId)).replies)).toContain("1");
  });

  test("the worker that took a turn over killed too: a third finishes it, and the code still ran once", async () => {
    const cell = "import time\nopen('/mnt/data/runs.txt', 'a').write('ran\\n')\ntime.sleep(6)\nprint('survived two crashes')";
    const req = request("twice-thread", `\`\`\`python\n${cell}\n\`\`\``);
    await pipeline.queue.enqueue(req);
    for (let crash = 0; crash < 2; crash++) {
      const victim = pipeline.worker;
      await victim.waitForLog(new RegExp(`"requestId":"${req.eventId}".*"msg":"turn started"`), 30_000);
      await new Promise((resolve) => setTimeout(resolve, 500));
      await victim.kill();
      pipeline.worker = await pipeline.startWorker({ QUEUE_LOCK_SECONDS: "2" });
    }
    const { replies } = await finalReply(req.eventId, 60_000);
    expect(answerText(replies)).toContain("survived two crashes");
    const check = request("twice-thread", "```python\nprint(open('/mnt/data/runs.txt').read().count('ran'))\n```");
    await pipeline.queue.enqueue(check);
    expect(answerText((await finalReply(check.eventId)).replies)).toContain("1");
  });

  test("a worker out of shutdown grace hands its turn back: another worker finishes it, the code runs once", async () => {
    const leaving = await pipeline.startWorker({ QUEUE_LOCK_SECONDS: "2", WORKER_SHUTDOWN_SECONDS: "2" });
    await pipeline.worker.stop();
    const cell = "import time\nopen('/mnt/data/runs.txt', 'a').write('ran\\n')\ntime.sleep(6)\nprint('finished elsewhere')";
    const req = request("grace-thread", `\`\`\`python\n${cell}\n\`\`\``);
    await pipeline.queue.enqueue(req);
    await leaving.waitForLog(new RegExp(`"requestId":"${req.eventId}".*"msg":"turn started"`));
    await new Promise((resolve) => setTimeout(resolve, 500));
    const stopping = Date.now();
    expect(await leaving.stop()).toBe(0);
    expect(Date.now() - stopping).toBeLessThan(2_000 + 3_000);
    expect(leaving.logs()).toMatch(/turn handed back to the queue/);
    pipeline.worker = await pipeline.startWorker({ QUEUE_LOCK_SECONDS: "2" });
    const { replies } = await finalReply(req.eventId, 60_000);
    expect(answerText(replies)).toContain("finished elsewhere");
    const check = request("grace-thread", "```python\nprint(open('/mnt/data/runs.txt').read().count('ran'))\n```");
    await pipeline.queue.enqueue(check);
    expect(answerText((await finalReply(check.eventId)).replies)).toContain("1");
  });

  test("a Docker engine out of reach for a few seconds is waited out with a visible status", async () => {
    // The worker's engine is a socket that only starts answering (a proxy to the real engine) after 4 s.
    const socket = join(tmpdir(), `codebot-engine-${randomUUID().slice(0, 8)}.sock`);
    const waiting = await pipeline.startWorker({ QUEUE_LOCK_SECONDS: "2", DOCKER_HOST: `unix://${socket}`, OUTAGE_WAIT_SECONDS: "30" });
    await pipeline.worker.stop();
    pipeline.worker = waiting;
    const proxy = createServer((client) => {
      const engine = createConnection("/var/run/docker.sock");
      client.on("error", () => engine.destroy());
      engine.on("error", () => client.destroy());
      client.pipe(engine).pipe(client);
    });
    const req = request("engine-thread", "```python\nprint('engine back')\n```");
    await pipeline.queue.enqueue(req);
    await new Promise((resolve) => setTimeout(resolve, 4000));
    await new Promise<void>((resolve) => proxy.listen(socket, resolve));
    try {
      const { replies } = await finalReply(req.eventId, 60_000);
      expect(answerText(replies)).toContain("engine back");
      expect(replies.some((reply) => reply.type === "status" && /Waiting for the sandbox engine/.test(reply.text))).toBe(true);
    } finally {
      await pipeline.worker.stop();
      pipeline.worker = await pipeline.startWorker({ QUEUE_LOCK_SECONDS: "2" });
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  test("a worker stopped with SIGTERM finishes its running turn first", async () => {
    const req = request("graceful-thread", "```python\nimport time\ntime.sleep(2)\nprint('finished before exit')\n```");
    await pipeline.queue.enqueue(req);
    await pipeline.worker.waitForLog(new RegExp(`"requestId":"${req.eventId}".*"msg":"turn started"`));
    const exit = await pipeline.worker.stop();
    expect(exit).toBe(0);
    const { replies } = await finalReply(req.eventId, 5_000);
    expect(answerText(replies)).toContain("finished before exit");
    pipeline.worker = await pipeline.startWorker();
  });

  test("a worker started through `npx` stops gracefully on SIGTERM too: it finishes its turn and exits within its grace", async () => {
    const viaNpx = await pipeline.startWorker({ WORKER_SHUTDOWN_SECONDS: "10" }, { viaNpx: true });
    await pipeline.worker.stop();
    pipeline.worker = viaNpx;
    const req = request("npx-thread", "```python\nimport time\ntime.sleep(2)\nprint('finished under npx')\n```");
    await pipeline.queue.enqueue(req);
    await viaNpx.waitForLog(new RegExp(`"requestId":"${req.eventId}".*"msg":"turn started"`));
    const stopping = Date.now();
    // To npm's process, as `docker stop` or systemd would. npm's shell dies without passing it on;
    // the worker sees its parent go and stops as gracefully as on SIGTERM.
    viaNpx.child.kill("SIGTERM");
    await viaNpx.gone;
    expect(Date.now() - stopping).toBeLessThan(10_000);
    expect(viaNpx.logs()).toMatch(/"msg":"worker stopping: finishing running turns"/);
    expect(viaNpx.logs()).toMatch(/"msg":"worker stopped"/);
    expect(answerText((await finalReply(req.eventId, 5_000)).replies)).toContain("finished under npx");
    pipeline.worker = await pipeline.startWorker();
  });

  test("a thread whose session ended is told, in the answer, that its variables and files are gone", async () => {
    const first = request("fresh-thread", "```python\nx = 1\nprint('set')\n```");
    await pipeline.queue.enqueue(first);
    expect(answerText((await finalReply(first.eventId)).replies)).toContain("set");
    // The session ends behind the thread's back (an engine restart, say): its container goes.
    const docker = new Docker();
    const sessions = await docker.listContainers({ all: true, filters: { label: [`codebot.namespace=${pipeline.env.SANDBOX_NAMESPACE}`] } });
    await Promise.all(sessions.filter((info) => !info.Names.some((name) => name.includes("-pool-"))).map((info) => docker.getContainer(info.Id).remove({ force: true, v: true })));
    const second = request("fresh-thread", "```python\nprint('x' in globals())\n```");
    await pipeline.queue.enqueue(second);
    const text = answerText((await finalReply(second.eventId)).replies);
    expect(text).toContain("False");
    expect(text).toMatch(/earlier Python session had ended/);
  });
});
