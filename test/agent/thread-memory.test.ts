import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { estimateTokens, ThreadMemory } from "../../src/agent/thread-memory.js";
import { keys } from "../../src/redis/redis-keys.js";
import { createRedis } from "../../src/redis/redis-connection.js";
import { startRedis, type TestRedis } from "../support/redis-server.js";

let server: TestRedis;
let redis: Redis;
let memory: ThreadMemory;

beforeAll(async () => {
  server = await startRedis();
  redis = createRedis(server.url);
  memory = new ThreadMemory(redis, keys(`m${randomBytes(4).toString("hex")}`));
});

afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

describe("thread memory", () => {
  test("keeps whole turns, newest first, within the token budget", async () => {
    for (let i = 1; i <= 5; i++) {
      await memory.append("t", [
        { role: "user", content: `question ${i} ${"x".repeat(400)}` },
        { role: "assistant", content: null, tool_calls: [{ id: `c${i}`, type: "function", function: { name: "python", arguments: "{}" } }] },
        { role: "tool", tool_call_id: `c${i}`, content: "ok" },
        { role: "assistant", content: `answer ${i}` },
      ]);
    }
    const all = await memory.history("t", 1_000_000);
    expect(all).toHaveLength(20);
    const oneTurn = estimateTokens(all.slice(0, 4));
    const recent = await memory.history("t", oneTurn * 2 + 10);
    expect(recent).toHaveLength(8);
    expect(recent[0]).toMatchObject({ role: "user", content: expect.stringMatching(/^question 4/) });
    expect(recent.at(-1)).toMatchObject({ content: "answer 5" });
  });

  test("clear forgets the thread", async () => {
    await memory.clear("t");
    expect(await memory.history("t", 1_000_000)).toEqual([]);
  });
});
