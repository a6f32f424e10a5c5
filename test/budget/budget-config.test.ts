import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { createBudgetGate } from "../../src/budget/budget-gate.js";
import { ConfigError, loadConfig } from "../../src/config.js";
import { chatRequestSchema } from "../../src/core/chat-request.js";
import { keys } from "../../src/redis/redis-keys.js";
import type { Redis } from "ioredis";

const ENV_EXAMPLE = readFileSync(new URL("../../.env.example", import.meta.url), "utf8");

describe("budget configuration", () => {
  test("unset or 0 is no limit; with no limit the gate only counts, and its check never touches Redis", async () => {
    const config = loadConfig({});
    expect(config.BUDGET_USER_TOKENS_PER_DAY).toBe(0);
    expect(config.BUDGET_EXEMPT_USERS).toEqual([]);
    expect(config.BUDGET_TIMEZONE).toBe("UTC");
    const redis = {} as Redis; // any command on it would throw
    const counting = createBudgetGate(redis, keys("x"), loadConfig({ BUDGET_CHANNEL_TOKENS_PER_MONTH: "0", BUDGET_EXEMPT_USERS: "slack:U1" }));
    const request = chatRequestSchema.parse({ eventId: "e1", user: { id: "U2", name: "Ada" }, conversation: { platform: "slack", workspaceId: "T1", channelId: "C1", threadId: "t1" }, text: "hi", receivedAt: 0 });
    expect(await counting.check(request)).toEqual({ ok: true });
    const limited = createBudgetGate(redis, keys("x"), loadConfig({ BUDGET_CHANNEL_TOKENS_PER_MONTH: "5" }));
    await expect(limited.check(request)).rejects.toThrow(); // with a limit it reads the counters
  });

  test("USAGE_HISTORY_DAYS: 90 days by default, 1 to 3650", () => {
    expect(loadConfig({}).USAGE_HISTORY_DAYS).toBe(90);
    expect(loadConfig({ USAGE_HISTORY_DAYS: "400" }).USAGE_HISTORY_DAYS).toBe(400);
    for (const days of ["0", "3651", "-3", "x"]) expect(() => loadConfig({ USAGE_HISTORY_DAYS: days }), days).toThrow(/USAGE_HISTORY_DAYS/);
    expect(ENV_EXAMPLE).toMatch(/^USAGE_HISTORY_DAYS=90$/m);
  });

  test("exempt users are platform:userId; the time zone is one Intl knows", () => {
    expect(loadConfig({ BUDGET_EXEMPT_USERS: "slack:U123, discord:4000123" }).BUDGET_EXEMPT_USERS).toEqual(["slack:U123", "discord:4000123"]);
    expect(() => loadConfig({ BUDGET_EXEMPT_USERS: "U123" })).toThrow(ConfigError);
    expect(() => loadConfig({ BUDGET_EXEMPT_USERS: "teams:U1" })).toThrow(/BUDGET_EXEMPT_USERS/);
    expect(loadConfig({ BUDGET_TIMEZONE: "Europe/Paris" }).BUDGET_TIMEZONE).toBe("Europe/Paris");
    expect(() => loadConfig({ BUDGET_TIMEZONE: "Mars/Olympus" })).toThrow(/BUDGET_TIMEZONE/);
    expect(() => loadConfig({ BUDGET_USER_TOKENS_PER_DAY: "-1" })).toThrow(/BUDGET_USER_TOKENS_PER_DAY/);
  });

  test("every BUDGET_* variable is in .env.example", () => {
    const names = Object.keys(loadConfig({})).filter((name) => name.startsWith("BUDGET_"));
    expect(names).toHaveLength(10);
    for (const name of names) expect(ENV_EXAMPLE, name).toMatch(new RegExp(`^${name}=`, "m"));
  });
});
