import { Redis } from "ioredis";
import { describe, expect, test } from "vitest";
import { STALE_CLAIM_MS } from "../../src/queue/event-claims.js";
import { TurnQueue } from "../../src/queue/turn-queue.js";
import { startCuttingProxy } from "../support/cutting-proxy.js";
import { answerText, finalReply, localRequest, repliesOf } from "../support/local-turns.js";
import { usePipeline } from "../support/pipeline-fixture.js";

const pipeline = usePipeline({ QUEUE_LOCK_SECONDS: "5", WORKER_CONCURRENCY: "4" });

/** A TurnQueue whose Redis connection goes through a proxy that cuts it after `cutAfter` commands. */
async function cutQueue(cutAfter: number) {
  const proxy = await startCuttingProxy(pipeline.env.REDIS_URL!, cutAfter);
  const redis = new Redis(proxy.url, { maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: true });
  redis.on("error", () => undefined);
  const queue = new TurnQueue(redis, pipeline.env.QUEUE_PREFIX!, 3);
  queue.queue.on("error", () => undefined);
  return {
    proxy,
    queue,
    close: async () => {
      await queue.close().catch(() => undefined);
      redis.disconnect();
      await proxy.close();
    },
  };
}

const cell = (text: string) => `\`\`\`python\nprint(${JSON.stringify(text)})\n\`\`\``;

describe("an enqueue cut at any of its Redis commands", () => {
  test("never stops its thread, and the event's re-delivery is answered exactly once", async () => {
    // How many commands one enqueue sends on a fresh connection (connection set-up included).
    const probe = await cutQueue(Number.POSITIVE_INFINITY);
    const warm = localRequest("cut-probe", cell("probe"));
    await probe.queue.enqueue(warm);
    const commands = probe.proxy.commands();
    await probe.close();
    await finalReply(pipeline, warm.eventId);
    // The claim, BullMQ's add and the confirmation are scripts; the connection's set-up comes first.
    expect(commands.filter((name) => name.startsWith("EVAL")).length).toBeGreaterThanOrEqual(3);

    // Cut an enqueue after each of those commands, one thread per cut point.
    const cuts = commands.map((name, i) => ({ name, at: i + 1, thread: `cut-${i + 1}`, first: localRequest(`cut-${i + 1}`, cell(`cut event ${i + 1}`)) }));
    await Promise.all(
      cuts.map(async (cut) => {
        const cutting = await cutQueue(cut.at);
        const outcome = await cutting.queue.enqueue(cut.first).then(
          () => "enqueued",
          (error: Error) => error.message,
        );
        await cutting.close();
        return outcome;
      }),
    );
    const cutAt = Date.now();

    // The next turn of every thread is answered at once: a half-done enqueue never blocks it.
    const next = cuts.map((cut) => localRequest(cut.thread, cell(`next turn ${cut.at}`)));
    for (const request of next) await pipeline.queue.enqueue(request);
    const answered = await Promise.all(next.map((request) => finalReply(pipeline, request.eventId, 60_000)));
    answered.forEach(({ replies }, i) => expect(answerText(replies)).toContain(`next turn ${cuts[i]!.at}`));
    // Skipping a place whose job never came waits a short grace (2 s); sessions start on the way.
    expect(Math.max(...answered.map((reply) => reply.at)) - cutAt).toBeLessThan(25_000);

    // The platform re-delivers the cut event once its claim is stale: it runs, exactly once, whether
    // or not the cut came after its job was added.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, cutAt + STALE_CLAIM_MS + 200 - Date.now())));
    for (const cut of cuts) await pipeline.queue.enqueue(cut.first);
    for (const cut of cuts) {
      const { replies } = await finalReply(pipeline, cut.first.eventId, 60_000);
      expect(answerText(replies), `cut after command ${cut.at} (${cut.name})`).toContain(`cut event ${cut.at}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 1500));
    for (const cut of cuts) {
      const answers = (await repliesOf(pipeline, cut.first.eventId)).filter((reply) => reply.type === "answer");
      expect(answers, `cut after command ${cut.at} (${cut.name})`).toHaveLength(1);
    }

    // And the threads carry on in order afterwards.
    const after = localRequest(cuts[0]!.thread, cell("still in order"));
    await pipeline.queue.enqueue(after);
    expect(answerText((await finalReply(pipeline, after.eventId)).replies)).toContain("still in order");
  });

  test("a re-delivery while the first delivery's enqueue is still under way is a duplicate", async () => {
    const request = localRequest("cut-race", cell("raced"));
    const outcomes = await Promise.all([1, 2, 3].map(() => pipeline.queue.enqueue(request)));
    expect(outcomes.filter((outcome) => !outcome.duplicate)).toHaveLength(1);
    expect(await pipeline.queue.seen(request.eventId)).toBe(true);
    expect(answerText((await finalReply(pipeline, request.eventId)).replies)).toContain("raced");
  });
});
