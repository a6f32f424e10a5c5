import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { createBudgetGate } from "../../src/budget/budget-gate.js";
import { ConfigError, loadConfig } from "../../src/config.js";
import { keys } from "../../src/queue/queue-keys.js";
import type { Redis } from "ioredis";

const ENV_EXAMPLE = readFileSync(new URL("../../.env.example", import.meta.url), "utf8");

describe("budget configuration", () => {
  test("unset or 0 is no limit, and with no limit there is no gate at all", () => {
    const config = loadConfig({});
    expect(config.BUDGET_USER_TOKENS_PER_DAY).toBe(0);
    expect(config.BUDGET_EXEMPT_USERS).toEqual([]);
    expect(config.BUDGET_TIMEZONE).toBe("UTC");
    const redis = {} as Redis; // never touched: no gate is made
    expect(createBudgetGate(redis, keys("x"), loadConfig({ BUDGET_CHANNEL_TOKENS_PER_MONTH: "0", BUDGET_EXEMPT_USERS: "slack:U1" }))).toBeUndefined();
    expect(createBudgetGate(redis, keys("x"), loadConfig({ BUDGET_CHANNEL_TOKENS_PER_MONTH: "5" }))).toBeDefined();
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
