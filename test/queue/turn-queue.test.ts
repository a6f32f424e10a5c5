import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { ChatRequestInput } from "../../src/core/chat-request.js";
import { keys } from "../../src/redis/redis-keys.js";
import { createRedis } from "../../src/redis/redis-connection.js";
import { ThreadOrder } from "../../src/queue/thread-order.js";
import { TurnQueue } from "../../src/queue/turn-queue.js";
import { startRedis, type TestRedis } from "../support/redis-server.js";

let server: TestRedis;
let redis: Redis;
let queue: TurnQueue;
const prefix = `t${randomBytes(4).toString("hex")}`;

function request(eventId: string, threadId = "th-1"): ChatRequestInput {
  return {
    eventId,
    user: { id: "U1", name: "Ada" },
    conversation: { platform: "local", channelId: "cli", threadId },
    text: "hello",
    receivedAt: Date.now(),
  };
}

beforeAll(async () => {
  server = await startRedis();
  redis = createRedis(server.url);
  queue = new TurnQueue(redis, prefix, 3);
});

afterAll(async () => {
  await queue.close();
  redis.disconnect();
  await server.stop();
});

describe("the turn queue", () => {
  test("the same event enqueued twice is one job", async () => {
    const first = await queue.enqueue(request("evt-dup"));
    const again = await queue.enqueue(request("evt-dup"));
    expect(first.duplicate).toBe(false);
    expect(again).toEqual({ jobId: first.jobId, duplicate: true });
    expect(await queue.queue.getJobCounts("waiting")).toMatchObject({ waiting: 1 });
  });

  test("concurrent deliveries of one event still make one job, holding one place in its thread", async () => {
    const outcomes = await Promise.all([1, 2, 3, 4].map(() => queue.enqueue(request("evt-race", "th-race"))));
    expect(outcomes.filter((outcome) => !outcome.duplicate)).toHaveLength(1);
    const order = new ThreadOrder(redis, keys(prefix));
    const job = await queue.queue.getJob(outcomes[0]!.jobId);
    expect(job?.data.seq).toBe(1);
    await order.advance("local:-:cli:th-race", 1);
    const next = await queue.enqueue(request("evt-after-race", "th-race"));
    expect((await queue.queue.getJob(next.jobId))?.data.seq).toBe(2);
    expect(await order.current("local:-:cli:th-race")).toBe(2);
  });

  test("a request that breaks the schema is refused before it reaches Redis", async () => {
    await expect(queue.enqueue({ ...request("evt-bad"), conversation: { platform: "irc", channelId: "x", threadId: "y" } } as never)).rejects.toThrow();
  });

  test("jobs hold references, not bytes or secrets", async () => {
    const outcome = await queue.enqueue({ ...request("evt-ref"), attachments: [{ name: "a.csv", size: 3, mime: "text/csv", url: "blob:00000000-0000-0000-0000-000000000000" }] });
    const raw = await redis.hget(`${prefix}:turns:${outcome.jobId}`, "data");
    expect(JSON.parse(raw ?? "{}").request.attachments[0]).toEqual({ name: "a.csv", size: 3, mime: "text/csv", url: "blob:00000000-0000-0000-0000-000000000000" });
  });
});

describe("thread order", () => {
  test("turns advance one by one and hand over to the next job", async () => {
    const order = new ThreadOrder(redis, keys(prefix));
    const a = await order.assign("thread-x", "job-a");
    const b = await order.assign("thread-x", "job-b");
    expect([a, b]).toEqual([1, 2]);
    expect(await order.current("thread-x")).toBe(1);
    expect(await order.advance("thread-x", 2)).toBeUndefined(); // not its turn: nothing moves
    expect(await order.current("thread-x")).toBe(1);
    expect(await order.advance("thread-x", 1)).toBe("job-b");
    expect(await order.current("thread-x")).toBe(2);
  });
});
