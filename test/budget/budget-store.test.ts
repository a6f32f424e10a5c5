import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { RedisBudgetGate } from "../../src/budget/budget-gate.js";
import { durationText, periodsAt } from "../../src/core/calendar-periods.js";
import { BudgetPolicy } from "../../src/budget/budget-policy.js";
import { budgetReport } from "../../src/budget/budget-report.js";
import { BudgetStore, DEFAULT_HISTORY_DAYS, MONTH_KEPT_DAYS } from "../../src/budget/budget-store.js";
import { loadConfig } from "../../src/config.js";
import { chatRequestSchema, type ChatRequest } from "../../src/core/chat-request.js";
import { keys, type Keys } from "../../src/redis/redis-keys.js";
import { createRedis } from "../../src/redis/redis-connection.js";
import { startRedis, type TestRedis } from "../support/redis-server.js";

let server: TestRedis;
let redis: Redis;
let k: Keys;

beforeAll(async () => {
  server = await startRedis();
  redis = createRedis(server.url);
  k = keys(`b${randomBytes(4).toString("hex")}`);
});

afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

const at = (iso: string) => Date.parse(iso);
const DAY_MS = 24 * 3600 * 1000;

/** A clock the test moves by hand. */
function handClock(start: string) {
  let now = at(start);
  return { clock: () => now, set: (iso: string) => void (now = at(iso)) };
}

function request(userId: string, channelId = "C1", platform: "slack" | "discord" | "local" = "slack", workspaceId: string | undefined = "T1"): ChatRequest {
  return chatRequestSchema.parse({
    eventId: `e-${randomBytes(4).toString("hex")}`,
    user: { id: userId, name: "Ada" },
    conversation: { platform, ...(workspaceId ? { workspaceId } : {}), channelId, threadId: "t1" },
    text: "hi",
    receivedAt: 0,
  });
}

function gate(env: Record<string, string>, clock: () => number, store = new BudgetStore(redis, k)) {
  return new RedisBudgetGate(store, new BudgetPolicy(loadConfig(env)), { clock });
}

describe("budget periods", () => {
  test("the UTC day and month of a time, and when each resets", () => {
    const periods = periodsAt(at("2025-01-31T23:59:59.999Z"));
    expect(periods.day).toEqual({ kind: "day", key: "day:2025-01-31", startsAt: at("2025-01-31T00:00:00Z"), endsAt: at("2025-02-01T00:00:00Z") });
    expect(periods.month).toEqual({ kind: "month", key: "month:2025-01", startsAt: at("2025-01-01T00:00:00Z"), endsAt: at("2025-02-01T00:00:00Z") });
    const next = periodsAt(at("2025-02-01T00:00:00Z"));
    expect([next.day.key, next.month.key]).toEqual(["day:2025-02-01", "month:2025-02"]);
    expect(periodsAt(at("2024-12-31T12:00:00Z")).month.endsAt).toBe(at("2025-01-01T00:00:00Z"));
    expect(periodsAt(at("2024-02-29T12:00:00Z")).day.endsAt).toBe(at("2024-03-01T00:00:00Z"));
  });

  test("in another time zone: its calendar, across a DST change", () => {
    // 23:30 UTC on 30 March 2025 is already 31 March in Paris (CEST, UTC+2 since that morning).
    const paris = periodsAt(at("2025-03-30T23:30:00Z"), "Europe/Paris");
    expect(paris.day.key).toBe("day:2025-03-31");
    expect(paris.day.startsAt).toBe(at("2025-03-30T22:00:00Z"));
    expect(paris.day.endsAt).toBe(at("2025-03-31T22:00:00Z"));
    // The month began in winter time (UTC+1).
    expect(paris.month.startsAt).toBe(at("2025-02-28T23:00:00Z"));
    expect(paris.month.endsAt).toBe(at("2025-03-31T22:00:00Z"));
    // The day of the change is 23 hours long.
    const change = periodsAt(at("2025-03-30T12:00:00Z"), "Europe/Paris").day;
    expect(change.endsAt - change.startsAt).toBe(23 * 3600 * 1000);
    expect(periodsAt(at("2025-01-15T03:00:00Z"), "America/New_York").day.key).toBe("day:2025-01-14");
  });

  test("time left reads plainly", () => {
    expect(durationText(30_000)).toBe("less than a minute");
    expect(durationText(12 * 60_000)).toBe("12 min");
    expect(durationText((3 * 60 + 12) * 60_000)).toBe("3 h 12 min");
    expect(durationText(2 * 3600_000)).toBe("2 h");
    expect(durationText((5 * 24 + 3) * 3600_000)).toBe("5 days 3 h");
  });
});

describe("the budget store", () => {
  test("100 concurrent charges of one subject, from 10 connections, add up exactly in every period", async () => {
    const connections = Array.from({ length: 10 }, () => createRedis(server.url));
    const store = new BudgetStore(redis, k);
    const periods = periodsAt(Date.now());
    await Promise.all(Array.from({ length: 100 }, (_, i) => new BudgetStore(connections[i % 10]!, k).charge(["user:slack:Uconc", "channel:slack:T1:Cconc"], [periods.day, periods.month], { tokens: i + 1, execSeconds: 0.25 }, Date.now())));
    for (const connection of connections) connection.disconnect();
    const uses = await store.read(["user:slack:Uconc", "channel:slack:T1:Cconc", "user:slack:Unobody"], periods);
    for (const subject of ["user:slack:Uconc", "channel:slack:T1:Cconc"]) {
      expect(uses.get(subject)).toEqual({ day: { tokens: 5050, execSeconds: 25 }, month: { tokens: 5050, execSeconds: 25 } });
    }
    expect(uses.get("user:slack:Unobody")).toEqual({ day: { tokens: 0, execSeconds: 0 }, month: { tokens: 0, execSeconds: 0 } });
  });

  test("a counter lives until its period ends plus its retention (by default 90 days, months 13 months), then is gone", async () => {
    const now = Date.now();
    const periods = periodsAt(now);
    await new BudgetStore(redis, k).charge(["user:slack:Uttl"], [periods.day, periods.month], { tokens: 5, execSeconds: 0 }, now);
    const dayTtl = await redis.pttl(k.budget("user:slack:Uttl", periods.day.key));
    const monthTtl = await redis.pttl(k.budget("user:slack:Uttl", periods.month.key));
    expect(Math.abs(dayTtl - (periods.day.endsAt - now + DEFAULT_HISTORY_DAYS * DAY_MS))).toBeLessThan(2000);
    expect(Math.abs(monthTtl - (periods.month.endsAt - now + MONTH_KEPT_DAYS * DAY_MS))).toBeLessThan(2000);

    // Kept no time after its day, a charge half a second before midnight is gone soon after it.
    const nearMidnight = periodsAt(at("2031-05-20T23:59:59.500Z"));
    await new BudgetStore(redis, k, { day: 0, month: 0 }).charge(["user:slack:Ugone"], [nearMidnight.day], { tokens: 5, execSeconds: 0 }, at("2031-05-20T23:59:59.500Z"));
    const key = k.budget("user:slack:Ugone", nearMidnight.day.key);
    expect(await redis.pttl(key)).toBeLessThanOrEqual(500);
    expect(await redis.exists(key)).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(await redis.exists(key)).toBe(0);
  });
});

describe("the budget gate", () => {
  test("a day's budget is refused with when it resets, and opens again at 00:00:00 UTC", async () => {
    const time = handClock("2031-01-14T20:48:00Z");
    const budgets = gate({ BUDGET_USER_TOKENS_PER_DAY: "200000" }, time.clock);
    const ada = request("Uday");
    expect(await budgets.check(ada)).toEqual({ ok: true });
    await budgets.charge(ada, { tokens: 150_000 });
    expect((await budgets.check(ada)).ok).toBe(true);
    await budgets.charge(ada, { tokens: 60_000 }); // over mid-way: counted, the next turn is refused
    expect(await budgets.check(ada)).toEqual({
      ok: false,
      refused: "You've used today's budget of 200,000 model tokens; it resets at 00:00 UTC (in 3 h 12 min). Nothing was run.",
      resetsAt: at("2031-01-15T00:00:00Z"),
    });
    time.set("2031-01-14T23:59:59Z");
    expect((await budgets.check(ada)).ok).toBe(false);
    time.set("2031-01-15T00:00:00Z");
    expect(await budgets.check(ada)).toEqual({ ok: true });
  });

  test("a month's budget holds over the day and opens on the 1st; the one resetting last is named", async () => {
    const time = handClock("2031-01-31T10:00:00Z");
    const budgets = gate({ BUDGET_USER_EXEC_SECONDS_PER_DAY: "60", BUDGET_USER_EXEC_SECONDS_PER_MONTH: "100" }, time.clock);
    const ada = request("Umonth");
    time.set("2031-01-30T10:00:00Z");
    await budgets.charge(ada, { execSeconds: 70 });
    expect(await budgets.check(ada)).toMatchObject({ ok: false, resetsAt: at("2031-01-31T00:00:00Z") });
    time.set("2031-01-31T10:00:00Z");
    expect(await budgets.check(ada)).toEqual({ ok: true });
    await budgets.charge(ada, { execSeconds: 40 });
    const refused = await budgets.check(ada);
    expect(refused).toMatchObject({ ok: false, resetsAt: at("2031-02-01T00:00:00Z") });
    expect(!refused.ok && refused.refused).toBe("You've used this month's budget of 100 seconds of code execution; it resets at 00:00 UTC on Feb 1 (in 14 h). Nothing was run.");
    time.set("2031-01-31T23:59:59Z");
    expect((await budgets.check(ada)).ok).toBe(false);
    time.set("2031-02-01T00:00:00Z");
    expect(await budgets.check(ada)).toEqual({ ok: true });
  });

  test("a channel's budget counts everyone in it, per workspace and channel; exempt users are counted, never refused", async () => {
    const time = handClock("2031-03-03T12:00:00Z");
    const budgets = gate({ BUDGET_CHANNEL_TOKENS_PER_DAY: "1000", BUDGET_USER_TOKENS_PER_DAY: "800", BUDGET_EXEMPT_USERS: "discord:400,slack:Uadmin" }, time.clock);
    await budgets.charge(request("Ua", "Cshared"), { tokens: 600 });
    await budgets.charge(request("Ub", "Cshared"), { tokens: 500 });
    const other = await budgets.check(request("Uc", "Cshared"));
    expect(!other.ok && other.refused).toMatch(/^This channel has used today's budget of 1,000 model tokens; it resets at 00:00 UTC \(in 12 h\)/);
    expect((await budgets.check(request("Uc", "Cshared", "slack", "T2"))).ok).toBe(true); // the same channel id in another workspace
    expect((await budgets.check(request("Uc", "Celsewhere"))).ok).toBe(true);
    expect((await budgets.check(request("Uadmin", "Cshared"))).ok).toBe(true);
    await budgets.charge(request("400", "Cguild", "discord", "G1"), { tokens: 5000 });
    expect((await budgets.check(request("400", "Cguild", "discord", "G1"))).ok).toBe(true);
    expect((await budgets.check(request("401", "Cguild", "discord", "G1"))).ok).toBe(false);

    const report = await budgetReport(redis, k, loadConfig({ BUDGET_CHANNEL_TOKENS_PER_DAY: "1000", BUDGET_USER_TOKENS_PER_DAY: "800" }), time.clock());
    expect(report.periods.day).toEqual({ key: "day:2031-03-03", resetsAt: "2031-03-04T00:00:00.000Z" });
    expect(report.channels.slice(0, 2).map((row) => [row.id, row.day.tokens, row.share])).toEqual([
      ["discord:G1:Cguild", 5000, 5],
      ["slack:T1:Cshared", 1100, 1.1],
    ]);
    expect(report.users.find((row) => row.id === "discord:400")).toMatchObject({ day: { tokens: 5000 }, month: { tokens: 5000 } });
  });
});
