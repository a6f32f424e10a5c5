import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Intake } from "../../src/bot/intake.js";
import type { AccessRules } from "../../src/core/access-policy.js";
import type { ChatRequestInput } from "../../src/core/chat-request.js";
import { createLogger } from "../../src/log.js";
import { keys } from "../../src/redis/redis-keys.js";
import { RateLimiter } from "../../src/queue/rate-limiter.js";
import { createRedis } from "../../src/redis/redis-connection.js";
import { TurnQueue } from "../../src/queue/turn-queue.js";
import { startRedis, type TestRedis } from "../support/redis-server.js";

let server: TestRedis;
let redis: Redis;
let queue: TurnQueue;
let intake: Intake;
const open: AccessRules = { workspaces: [], channels: [], users: [], allowDms: true };

function request(user = "U1", channel = "C1"): ChatRequestInput {
  return { eventId: `e-${randomBytes(4).toString("hex")}`, user: { id: user, name: user }, conversation: { platform: "slack", workspaceId: "T1", channelId: channel, threadId: "1.0" }, text: "hi", receivedAt: Date.now() };
}

beforeAll(async () => {
  server = await startRedis();
  redis = createRedis(server.url);
  const prefix = `i${randomBytes(4).toString("hex")}`;
  queue = new TurnQueue(redis, prefix, 3);
  intake = new Intake(queue, new RateLimiter(redis, prefix, 3), redis, keys(prefix), createLogger("silent"));
});

afterAll(async () => {
  await queue.close();
  redis.disconnect();
  await server.stop();
});

describe("the intake every adapter goes through", () => {
  test("allowlists and DMs off refuse politely; nothing is queued", async () => {
    expect(await intake.submit(request("U1", "C9"), { ...open, channels: ["C1"] }, false)).toMatchObject({ status: "refused", message: expect.stringMatching(/not enabled in this channel/) });
    expect(await intake.submit(request("U9"), { ...open, users: ["U1"] }, false)).toMatchObject({ status: "refused", message: expect.stringMatching(/not on the list/) });
    expect(await intake.submit(request(), { ...open, allowDms: false }, true)).toMatchObject({ status: "refused", message: expect.stringMatching(/direct messages/) });
    expect(await intake.submit(request("U1", "C9"), { ...open, workspaces: ["T2"] }, false)).toMatchObject({ status: "refused", message: expect.stringMatching(/not enabled on this server/) });
    expect(await queue.queue.count()).toBe(0);
  });

  test("a thread is judged by its parent channel", async () => {
    expect(await intake.submit(request("U1", "THREAD1"), { ...open, channels: ["C1"] }, false, "C1")).toEqual({ status: "queued" });
  });

  test("past the per-user rate limit, a polite refusal; other users are unaffected; a retried event is not counted", async () => {
    const first = request("U7");
    expect(await intake.submit(first, open, false)).toEqual({ status: "queued" });
    expect(await intake.submit(first, open, false)).toEqual({ status: "duplicate" });
    expect(await intake.submit(request("U7"), open, false)).toEqual({ status: "queued" });
    expect(await intake.submit(request("U7"), open, false)).toEqual({ status: "queued" });
    expect(await intake.submit(request("U7"), open, false)).toMatchObject({ status: "refused", message: expect.stringMatching(/wait a minute/) });
    expect(await intake.submit(request("U8"), open, false)).toEqual({ status: "queued" });
  });

  test("Stop: the asker (from the queued job) or an admin stops a request; anyone else is refused, named; an unknown request is over", async () => {
    const asked = request("U5");
    await intake.enqueue(asked);
    const withAdmin = new Intake(queue, new RateLimiter(redis, "unused", 3), redis, keys(`i${randomBytes(4).toString("hex")}`), createLogger("silent"), undefined, ["slack:UADMIN"]);
    expect(await intake.stop(asked.eventId, { platform: "slack", userId: "U6" })).toEqual({ status: "refused", asker: "U5" });
    // The same user id on another platform is someone else (an admin's too).
    expect(await intake.stop(asked.eventId, { platform: "discord", userId: "U5" })).toEqual({ status: "refused", asker: "U5" });
    expect(await withAdmin.stop(asked.eventId, { platform: "discord", userId: "UADMIN" })).toEqual({ status: "refused", asker: "U5" });
    expect(await withAdmin.stop(asked.eventId, { platform: "slack", userId: "UADMIN" })).toEqual({ status: "stopping" });
    expect(await intake.stop(asked.eventId, { platform: "slack", userId: "U5" })).toEqual({ status: "stopping" });
    expect(await intake.stop("never-queued", { platform: "slack", userId: "U5" })).toEqual({ status: "over" });
  });
});
