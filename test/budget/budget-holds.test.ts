import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { RedisBudgetGate } from "../../src/budget/budget-gate.js";
import { periodsAt } from "../../src/core/calendar-periods.js";
import { BudgetPolicy, HOLD_MARGIN_SECONDS, turnWorth } from "../../src/budget/budget-policy.js";
import { BudgetStore } from "../../src/budget/budget-store.js";
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
  k = keys(`h${randomBytes(4).toString("hex")}`);
});

afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

// One turn's worth with these settings: 1,000 + 2,000 tokens, 30 s of execution.
const TURN_ENV = { TURN_MAX_TOKENS: "1000", MODEL_CONTEXT_TOKENS: "2000", TURN_TIMEOUT_SECONDS: "30" };
const WORTH = turnWorth(loadConfig(TURN_ENV));

function request(userId: string, channelId = "C1"): ChatRequest {
  return chatRequestSchema.parse({
    eventId: `e-${randomBytes(6).toString("hex")}`,
    user: { id: userId, name: "Ada" },
    conversation: { platform: "slack", workspaceId: "T1", channelId, threadId: `t-${randomBytes(3).toString("hex")}` },
    text: "hi",
    receivedAt: 0,
  });
}

function gate(env: Record<string, string>, clock: () => number = Date.now, connection = redis) {
  return new RedisBudgetGate(new BudgetStore(connection, k), new BudgetPolicy(loadConfig({ ...TURN_ENV, ...env })), { clock });
}

const usedTokens = async (userId: string, at = Date.now()) => Number((await redis.hget(k.budget(`user:slack:${userId}`, periodsAt(at).day.key), "tokens")) ?? 0);
const usedExecMs = async (userId: string, at = Date.now()) => Number((await redis.hget(k.budget(`user:slack:${userId}`, periodsAt(at).day.key), "exec_ms")) ?? 0);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("holds: concurrent turns overshoot a limit by at most one turn's worth", () => {
  test("one turn's worth is TURN_MAX_TOKENS plus a context window, and the turn's time limit", () => {
    expect(WORTH).toEqual({ tokens: 3000, execSeconds: 30 });
    expect(new BudgetPolicy(loadConfig(TURN_ENV)).holdMs).toBe((30 + HOLD_MARGIN_SECONDS) * 1000);
  });

  test("40 turns of one user at once, from 10 connections, each spending close to its worth: the day ends at most one turn's worth over", async () => {
    const limit = 10_000;
    const connections = Array.from({ length: 10 }, () => createRedis(server.url));
    const outcomes: string[] = [];
    // Each turn: admitted or refused; admitted, it spends 2,900 tokens in three model calls and
    // three 2 s executions over a few milliseconds, then ends (its hold released).
    const turn = async (i: number) => {
      const budgets = gate({ BUDGET_USER_TOKENS_PER_DAY: String(limit) }, Date.now, connections[i % 10]);
      const ask = request("Uconcurrent", `C${i % 3}`);
      const admission = await budgets.admit(ask, ask.eventId);
      if (!admission.ok) return void outcomes.push(admission.refused);
      outcomes.push("admitted");
      for (let call = 0; call < 3; call++) {
        await sleep(5 + (i % 7));
        await budgets.charge(ask, { tokens: call < 2 ? 1000 : 900 }, { turn: ask.eventId });
        await budgets.charge(ask, { execSeconds: 2 }, { turn: ask.eventId, once: `${ask.eventId}#${call + 1}` });
      }
      await budgets.release(ask, ask.eventId);
    };
    // Waves of 40 until the day's budget is used up: every wave's turns race each other.
    for (let wave = 0; wave < 10 && !outcomes.some((text) => text.startsWith("You've used today's budget")); wave++) {
      await Promise.all(Array.from({ length: 40 }, (_, i) => turn(i)));
    }
    for (const connection of connections) connection.disconnect();
    const used = await usedTokens("Uconcurrent");
    const admitted = outcomes.filter((text) => text === "admitted").length;
    expect(used).toBe(admitted * 2900);
    expect(used).toBeGreaterThanOrEqual(limit);
    expect(used).toBeLessThan(limit + WORTH.tokens);
    // Without holds, the first wave alone (40 turns under the limit at once) would have spent 116,000.
    expect(outcomes.filter((text) => text.startsWith("Your requests still running may use the rest of today's budget of 10,000 model tokens")).length).toBeGreaterThan(30);
    const after = request("Uconcurrent");
    const refused = await gate({ BUDGET_USER_TOKENS_PER_DAY: String(limit) }).admit(after, after.eventId);
    expect(!refused.ok && refused.refused).toMatch(/^You've used today's budget of 10,000 model tokens; it resets at 00:00 UTC/);
    expect(await usedExecMs("Uconcurrent")).toBe(admitted * 6000);
    expect(await redis.hlen(k.budgetHolds("user:slack:Uconcurrent"))).toBe(0);
  });

  test("a channel's running turns hold against the channel: another user there waits for them, not a user elsewhere", async () => {
    const budgets = gate({ BUDGET_CHANNEL_EXEC_SECONDS_PER_DAY: "20" });
    const first = request("Ua", "Cbusy");
    expect(await budgets.admit(first, first.eventId)).toEqual({ ok: true, held: true, spentTokens: 0 });
    const second = request("Ub", "Cbusy");
    const refused = await budgets.admit(second, second.eventId);
    expect(!refused.ok && refused.refused).toBe(
      "Requests still running in this channel may use the rest of the channel's budget of 20 seconds of code execution for today, so this one was not started: ask again once they are done. Nothing was run.",
    );
    // The refused turn holds nothing: its user's hold was released with the channel's refusal.
    expect(await redis.hexists(k.budgetHolds("user:slack:Ub"), second.eventId)).toBe(0);
    const elsewhere = request("Ub", "Cquiet");
    expect((await budgets.admit(elsewhere, elsewhere.eventId)).ok).toBe(true);
    await budgets.charge(first, { execSeconds: 10 }, { turn: first.eventId });
    await budgets.release(first, first.eventId);
    expect((await budgets.admit(second, second.eventId)).ok).toBe(true);
    await budgets.release(second, second.eventId);
    await budgets.release(elsewhere, elsewhere.eventId);
  });

  test("a hold whose worker died lapses on its own: the turn's time limit and a margin after it was taken", async () => {
    let now = Date.parse("2031-06-10T10:00:00Z");
    const budgets = gate({ BUDGET_USER_TOKENS_PER_DAY: "2000" }, () => now);
    const crashed = request("Ucrash");
    expect((await budgets.admit(crashed, crashed.eventId)).ok).toBe(true);
    await budgets.charge(crashed, { tokens: 400 }, { turn: crashed.eventId }); // then its worker died: never released
    const next = request("Ucrash");
    now += 30_000;
    expect(await budgets.admit(next, next.eventId)).toMatchObject({ ok: false, refused: expect.stringMatching(/^Your requests still running may use the rest of today's budget of 2,000 model tokens/) });
    now += HOLD_MARGIN_SECONDS * 1000 + 1;
    expect(await budgets.admit(next, next.eventId)).toEqual({ ok: true, held: true, spentTokens: 0 });
    expect(await redis.hkeys(k.budgetHolds("user:slack:Ucrash"))).toEqual([next.eventId]); // the lapsed hold is gone
    expect(await usedTokens("Ucrash", now)).toBe(400); // what it spent stays spent
  });

  test("a turn taken over holds once, not twice, continues within what it spent, and isn't refused half-done", async () => {
    const budgets = gate({ BUDGET_USER_TOKENS_PER_DAY: "3500" });
    const turn = request("Utaken");
    expect((await budgets.admit(turn, turn.eventId)).ok).toBe(true);
    await budgets.charge(turn, { tokens: 1200 }, { turn: turn.eventId });
    await budgets.charge(turn, { execSeconds: 1.5 }, { turn: turn.eventId, once: `${turn.eventId}#1` });
    await budgets.charge(request("Utaken"), { tokens: 2400 }); // another turn of the user, ended meanwhile: the day is used up
    // Its worker died; another takes it over: admitted (already running), told what it spent.
    expect(await budgets.admit(turn, turn.eventId)).toEqual({ ok: true, held: true, spentTokens: 1200 });
    const holds = await redis.hgetall(k.budgetHolds("user:slack:Utaken"));
    expect(Object.keys(holds)).toEqual([turn.eventId]);
    expect(holds[turn.eventId]?.split(" ").slice(0, 2)).toEqual([String(WORTH.tokens - 1200), String(WORTH.execSeconds * 1000)]);
    // The rescuer gets the step's result again from the sandbox: its seconds are not counted twice.
    await budgets.charge(turn, { execSeconds: 1.5 }, { turn: turn.eventId, once: `${turn.eventId}#1` });
    await budgets.charge(turn, { execSeconds: 0.5 }, { turn: turn.eventId, once: `${turn.eventId}#2` });
    expect(await usedExecMs("Utaken")).toBe(2000);
    await budgets.release(turn, turn.eventId);
    const fresh = request("Utaken");
    expect(await budgets.admit(fresh, fresh.eventId)).toMatchObject({ ok: false, refused: expect.stringMatching(/^You've used today's budget of 3,500 model tokens/) });
  });

  test("without limits, admitting holds nothing and reads nothing; charges still count, executions once", async () => {
    const budgets = gate({});
    const turn = request("Ufree");
    expect(await budgets.admit(turn, turn.eventId)).toEqual({ ok: true, held: false, spentTokens: 0 });
    await budgets.charge(turn, { execSeconds: 2 }, { turn: turn.eventId, once: `${turn.eventId}#1` });
    await budgets.charge(turn, { execSeconds: 2 }, { turn: turn.eventId, once: `${turn.eventId}#1` });
    expect(await usedExecMs("Ufree")).toBe(2000);
    expect(await redis.exists(k.budgetHolds("user:slack:Ufree"))).toBe(0);
  });
});
