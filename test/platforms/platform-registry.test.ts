import { Redis } from "ioredis";
import { afterAll, describe, expect, test } from "vitest";
import { systemPrompt } from "../../src/agent/system-prompt.js";
import { loadConfig } from "../../src/config.js";
import { PLATFORM_NAMES } from "../../src/core/platform-names.js";
import { createLogger } from "../../src/log.js";
import { keys } from "../../src/redis/redis-keys.js";
import { configuredPlatforms, platformPorts, PLATFORMS } from "../../src/platforms/registry.js";

const slackConfig = { SLACK_BOT_TOKEN: "xoxb-test-0000", SLACK_SIGNING_SECRET: "secret" };
const discordConfig = { DISCORD_TOKEN: "discord-test-token" };
// Ports are made, never used: a client that connects only when a command is sent.
const redis = new Redis({ lazyConnect: true });
afterAll(() => redis.disconnect());

describe("the platform registry", () => {
  test("one adapter per platform name, each with its prompt facts", () => {
    expect(PLATFORMS.map((platform) => platform.name).sort()).toEqual([...PLATFORM_NAMES].sort());
    expect(Object.fromEntries(PLATFORMS.map((platform) => [platform.name, platform.promptFacts.place]))).toEqual({
      slack: "a Slack thread",
      discord: "a Discord thread",
      local: "a local chat",
    });
    const prompt = systemPrompt({ place: "a Discord thread", timeoutSeconds: 60, memoryMb: 512, diskMb: 100 });
    expect(prompt).toMatch(/^You are codebot, a data analysis assistant working in a Discord thread that several people may share\./);
  });

  test("a platform is configured by its own variables; the local chat always is", () => {
    const names = (env: Record<string, string>) => configuredPlatforms(loadConfig(env)).map((platform) => platform.name);
    expect(names({})).toEqual(["local"]);
    expect(names(slackConfig)).toEqual(["local", "slack"]);
    expect(names({ ...slackConfig, ...discordConfig })).toEqual(["local", "slack", "discord"]);
    // The bot listens to Slack, then Discord; the local chat has nothing to listen to.
    expect(configuredPlatforms(loadConfig({ ...slackConfig, ...discordConfig })).filter((platform) => platform.listen).map((platform) => platform.name)).toEqual(["slack", "discord"]);
    expect(PLATFORMS.flatMap((platform) => (platform.setup ? [platform.setup] : [])).join(", and/or ")).toBe("SLACK_BOT_TOKEN with SLACK_SIGNING_SECRET or SLACK_APP_TOKEN, and/or DISCORD_TOKEN");
  });

  test("a worker gets a delivery, an attachment source and a place for each configured platform only", () => {
    const deps = { redis, keys: keys("registry-test"), log: createLogger("silent") };
    const local = platformPorts(loadConfig({}), deps);
    expect(Object.keys(local.deliveries)).toEqual(["local"]);
    const all = platformPorts(loadConfig({ ...slackConfig, ...discordConfig }), deps);
    expect(Object.keys(all.deliveries)).toEqual(["local", "slack", "discord"]);
    expect(Object.keys(all.attachments)).toEqual(["local", "slack", "discord"]);
    expect(all.places).toEqual({ local: "a local chat", slack: "a Slack thread", discord: "a Discord thread" });
  });

  test("text bound for Slack or Discord pings nobody after the platform's mention pass", () => {
    const byName = Object.fromEntries(PLATFORMS.map((platform) => [platform.name, platform]));
    const slack = byName.slack!.mentions("hi @channel <!here> <!subteam^S123|@team> <@U123>");
    expect(slack).not.toMatch(/<!|<@|(^|\s)@channel\b/);
    const discord = byName.discord!.mentions("hi @everyone @here <@123> <@&456>");
    expect(discord).not.toMatch(/@everyone|@here|<@\d|<@&/);
    expect(byName.local!.mentions("@here")).toBe("@here");
  });
});
