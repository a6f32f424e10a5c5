import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { AssistantThreads } from "../../../src/platforms/slack/slack-assistant-threads.js";
import { LatestDmThreads } from "../../../src/platforms/slack/slack-latest-dm-threads.js";
import { keys } from "../../../src/redis/redis-keys.js";
import { startRedis, type TestRedis } from "../../support/redis-server.js";

/** Slack's own Redis stores (src/platforms/slack/): assistant threads and each DM's latest thread, on a real Redis. */
describe("Slack's Redis stores", () => {
  let server: TestRedis;
  let redis: Redis;
  const k = keys(`slack-stores-${process.pid}`);

  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
  });
  afterAll(async () => {
    await redis.quit();
    await server.stop();
  });

  test("an assistant thread is known once started, and only the first question claims its title", async () => {
    const threads = new AssistantThreads(redis, k);
    expect(await threads.isAssistantThread("T1", "D1", "1.1")).toBe(false);
    expect(await threads.claimTitle("T1", "D1", "1.1"), "no title for a thread never started").toBe(false);
    await threads.started("T1", "D1", "1.1");
    expect(await threads.isAssistantThread("T1", "D1", "1.1")).toBe(true);
    expect(await threads.isAssistantThread("T1", "D1", "1.2")).toBe(false);
    const claims = await Promise.all([threads.claimTitle("T1", "D1", "1.1"), threads.claimTitle("T1", "D1", "1.1")]);
    expect(claims.sort()).toEqual([false, true]);
    // A second assistant_thread_started (a reconnect's replay) doesn't un-title it.
    await threads.started("T1", "D1", "1.1");
    expect(await threads.claimTitle("T1", "D1", "1.1")).toBe(false);
    const ttl = await redis.ttl(k.assistantThread("T1:D1:1.1"));
    expect(ttl).toBeGreaterThan(29 * 24 * 3600);
  });

  test("a DM's latest thread is remembered per team and channel; a corrupt entry reads as none", async () => {
    const latest = new LatestDmThreads(redis, k);
    expect(await latest.latest("T1", "D9")).toBeUndefined();
    await latest.remember("T1", "D9", { threadId: "1.5", replyContext: { threadTs: "1.5" } });
    await latest.remember("T1", "D9", { threadId: "1.7", replyContext: { threadTs: "1.7", assistantThread: "1" } });
    expect(await latest.latest("T1", "D9")).toEqual({ threadId: "1.7", replyContext: { threadTs: "1.7", assistantThread: "1" } });
    expect(await latest.latest("T2", "D9")).toBeUndefined();
    await expect(latest.remember("T1", "D9", { threadId: "", replyContext: {} })).rejects.toThrow();
    await redis.set(k.latestDmThread("T1:D9"), "{not json");
    expect(await latest.latest("T1", "D9")).toBeUndefined();
    await redis.set(k.latestDmThread("T1:D9"), JSON.stringify({ threadId: "x".repeat(500), replyContext: {} }));
    expect(await latest.latest("T1", "D9")).toBeUndefined();
  });
});
