import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createBudgetGate } from "../../src/budget/budget-gate.js";
import { periodsAt } from "../../src/core/calendar-periods.js";
import { budgetReport } from "../../src/budget/budget-report.js";
import { BudgetStore, MONTH_KEPT_DAYS } from "../../src/budget/budget-store.js";
import { lastDays, usageHistory } from "../../src/budget/usage-history.js";
import { loadConfig } from "../../src/config.js";
import { chatRequestSchema, type ChatRequest } from "../../src/core/chat-request.js";
import { keys } from "../../src/redis/redis-keys.js";
import { createRedis } from "../../src/redis/redis-connection.js";
import { startRedis, type TestRedis } from "../support/redis-server.js";

let server: TestRedis;
let redis: Redis;

beforeAll(async () => {
  server = await startRedis();
  redis = createRedis(server.url);
});

afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

const DAY_MS = 24 * 3600 * 1000;
const at = (iso: string) => Date.parse(iso);
/** Each test's own key prefix. */
const freshKeys = () => keys(`h${randomBytes(4).toString("hex")}`);

function handClock(start: string) {
  let now = at(start);
  return { clock: () => now, set: (iso: string) => void (now = at(iso)) };
}

function request(userId: string, channelId = "C1"): ChatRequest {
  return chatRequestSchema.parse({ eventId: `e-${randomBytes(4).toString("hex")}`, user: { id: userId, name: "Ada" }, conversation: { platform: "slack", workspaceId: "T1", channelId, threadId: "t1" }, text: "hi", receivedAt: 0 });
}

describe("usage counted without any budget", () => {
  test("with no BUDGET_* limit a charge is counted per user and channel, and read back; nothing is refused", async () => {
    const k = freshKeys();
    const time = handClock("2031-04-02T09:00:00Z");
    const config = loadConfig({});
    const gate = createBudgetGate(redis, k, config, undefined, time.clock);
    await gate.charge(request("Ua"), { tokens: 1234 });
    await gate.charge(request("Ua"), { execSeconds: 2.5 });
    await gate.charge(request("Ub", "C2"), { tokens: 10, execSeconds: 0.1 });
    expect(await gate.check(request("Ua"))).toEqual({ ok: true });

    const uses = await new BudgetStore(redis, k).read(["user:slack:Ua", "channel:slack:T1:C1", "channel:slack:T1:C2"], periodsAt(time.clock()));
    expect(uses.get("user:slack:Ua")).toEqual({ day: { tokens: 1234, execSeconds: 2.5 }, month: { tokens: 1234, execSeconds: 2.5 } });
    expect(uses.get("channel:slack:T1:C1")).toEqual({ day: { tokens: 1234, execSeconds: 2.5 }, month: { tokens: 1234, execSeconds: 2.5 } });
    expect(uses.get("channel:slack:T1:C2")?.day).toEqual({ tokens: 10, execSeconds: 0.1 });

    const report = await budgetReport(redis, k, config, time.clock());
    expect(report.users.map((row) => [row.id, row.month.tokens, row.share])).toEqual([["slack:Ua", 1234, 0], ["slack:Ub", 10, 0]]);
  });
});

describe("usage history", () => {
  test("three days of charges, across midnight, are three days of the history with their users and channels", async () => {
    const k = freshKeys();
    const time = handClock("2031-06-09T23:59:59Z");
    const config = loadConfig({});
    const gate = createBudgetGate(redis, k, config, undefined, time.clock);
    await gate.charge(request("Ua"), { tokens: 100, execSeconds: 1.5 });
    time.set("2031-06-10T00:00:00Z");
    await gate.charge(request("Ua"), { tokens: 200 });
    await gate.charge(request("Ub", "C2"), { tokens: 50, execSeconds: 0.25 });
    time.set("2031-06-11T12:00:00Z");
    await gate.charge(request("Ub", "C2"), { tokens: 1000 });
    await gate.charge(request("Ub", "C2"), { execSeconds: 0.1 });
    await gate.charge(request("Ub", "C2"), { execSeconds: 0.2 });

    const history = await usageHistory(redis, k, config, at("2031-06-11T18:00:00Z"));
    expect(history.timeZone).toBe("UTC");
    expect(history.days).toHaveLength(14);
    expect(history.days[0]?.date).toBe("2031-05-29");
    expect(history.days.at(-1)?.date).toBe("2031-06-11");
    const active = history.days.filter((day) => day.tokens || day.execSeconds).map(({ date, tokens, execSeconds, users, channels }) => ({ date, tokens, execSeconds, users, channels }));
    expect(active).toEqual([
      { date: "2031-06-09", tokens: 100, execSeconds: 1.5, users: 1, channels: 1 },
      { date: "2031-06-10", tokens: 250, execSeconds: 0.25, users: 2, channels: 2 },
      { date: "2031-06-11", tokens: 1000, execSeconds: 0.3, users: 1, channels: 1 },
    ]);
    expect(history.users.map((user) => [user.id, user.total])).toEqual([
      ["slack:Ub", { tokens: 1050, execSeconds: 0.55 }],
      ["slack:Ua", { tokens: 300, execSeconds: 1.5 }],
    ]);
    expect(history.users[1]?.days.slice(-3)).toEqual([{ tokens: 100, execSeconds: 1.5 }, { tokens: 200, execSeconds: 0 }, { tokens: 0, execSeconds: 0 }]);
    expect(history.channels.map((channel) => channel.id)).toEqual(["slack:T1:C2", "slack:T1:C1"]);

    // Only the top ones are listed.
    expect((await usageHistory(redis, k, config, at("2031-06-11T18:00:00Z"), 14, 1)).users.map((user) => user.id)).toEqual(["slack:Ub"]);
    // Read from a later day, the oldest charges have left the 14 days shown.
    expect((await usageHistory(redis, k, config, at("2031-06-23T12:00:00Z"))).days.filter((day) => day.tokens).map((day) => day.date)).toEqual(["2031-06-10", "2031-06-11"]);
  });

  test("days are the BUDGET_TIMEZONE's calendar days, DST changes included", async () => {
    const k = freshKeys();
    const config = loadConfig({ BUDGET_TIMEZONE: "America/New_York" });
    const time = handClock("2031-06-12T02:00:00Z"); // 22:00 on June 11 in New York
    await createBudgetGate(redis, k, config, undefined, time.clock).charge(request("Ua"), { tokens: 7 });
    const history = await usageHistory(redis, k, config, at("2031-06-12T03:00:00Z"));
    expect(history.days.at(-1)).toMatchObject({ date: "2031-06-11", tokens: 7, users: 1 });
    // Around Paris's spring change (a 23-hour day): 14 consecutive dates, each starting where the one before ends.
    const days = lastDays(at("2025-04-05T12:00:00Z"), "Europe/Paris", 14);
    const dates = ["03-23", "03-24", "03-25", "03-26", "03-27", "03-28", "03-29", "03-30", "03-31", "04-01", "04-02", "04-03", "04-04", "04-05"];
    expect(days.map((day) => day.key)).toEqual(dates.map((date) => `day:2025-${date}`));
    expect(days.find((day) => day.key === "day:2025-03-30")!.endsAt - days.find((day) => day.key === "day:2025-03-30")!.startsAt).toBe(23 * 3600 * 1000);
    for (let i = 1; i < days.length; i++) expect(days[i]!.startsAt).toBe(days[i - 1]!.endsAt);
  });

  test("day counters and the day's index are kept USAGE_HISTORY_DAYS after their day; months 13 months, or longer with a longer history", async () => {
    const now = at("2031-07-15T10:00:00Z");
    const periods = periodsAt(now);
    for (const days of [30, 1000]) {
      const k = freshKeys();
      await createBudgetGate(redis, k, loadConfig({ USAGE_HISTORY_DAYS: String(days) }), undefined, () => now).charge(request("Ua"), { tokens: 5 });
      const dayTtl = periods.day.endsAt - now + days * DAY_MS;
      for (const key of [k.budget("user:slack:Ua", periods.day.key), k.budget("channel:slack:T1:C1", periods.day.key), k.usageSubjects(periods.day.key)]) {
        expect(Math.abs((await redis.pttl(key)) - dayTtl), key).toBeLessThan(2000);
      }
      const monthTtl = periods.month.endsAt - now + Math.max(MONTH_KEPT_DAYS, days) * DAY_MS;
      expect(Math.abs((await redis.pttl(k.budget("user:slack:Ua", periods.month.key))) - monthTtl)).toBeLessThan(2000);
      expect(await redis.zrange(k.usageSubjects(periods.day.key), 0, -1)).toEqual(["channel:slack:T1:C1", "user:slack:Ua"]);
    }
  });

  test("reading the history is two round trips of reads, never a SCAN of the keyspace", async () => {
    const k = freshKeys();
    const time = handClock("2031-08-01T08:00:00Z");
    const gate = createBudgetGate(redis, k, loadConfig({}), undefined, time.clock);
    for (const user of ["Ua", "Ub", "Uc"]) await gate.charge(request(user), { tokens: 3 });
    const monitor = await redis.monitor();
    const commands: string[] = [];
    monitor.on("monitor", (_time: string, args: string[]) => commands.push(String(args[0]).toLowerCase()));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const history = await usageHistory(redis, k, loadConfig({}), time.clock());
    await new Promise((resolve) => setTimeout(resolve, 200));
    monitor.disconnect();
    expect(history.days.at(-1)).toMatchObject({ tokens: 9, users: 3, channels: 1 });
    expect(commands).not.toContain("scan");
    expect(commands.filter((command) => command === "zrange")).toHaveLength(14);
    expect(commands.filter((command) => command === "hmget")).toHaveLength(4); // today's three users and one channel
  });
});
