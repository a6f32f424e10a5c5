import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { CONFIG_SECTIONS, CONFIG_VARIABLES, ConfigError, loadConfig, SECTION_OF, type ConfigSection } from "../../src/config.js";
import { sandboxSchema } from "../../src/config/sandbox-config.js";
import { slackProblems, slackSchema } from "../../src/config/slack-config.js";
import { workspaceSchema } from "../../src/config/workspace-config.js";
import { limitsFromConfig } from "../../src/sandbox/sandbox-limits.js";
import { createWorkspaceStore } from "../../src/workspace/create-workspace-store.js";

const ENV_EXAMPLE = readFileSync(new URL("../../.env.example", import.meta.url), "utf8");
const HEADING = /^# --- .+ \[([a-z.]+)\] -+$/;

describe("config sections: one schema each, validated once together", () => {
  test("every variable belongs to exactly one section", () => {
    expect(new Set(CONFIG_VARIABLES).size).toBe(CONFIG_VARIABLES.length);
    expect(SECTION_OF.size).toBe(CONFIG_VARIABLES.length);
    expect(SECTION_OF.get("SANDBOX_MEMORY_MB")).toBe("sandbox");
    expect(SECTION_OF.get("SANDBOX_HOSTS")).toBe("fleet");
    expect(SECTION_OF.get("PORT")).toBe("platforms.slack");
    expect(SECTION_OF.get("DISCORD_TOKEN")).toBe("platforms.discord");
    expect(SECTION_OF.get("QUEUE_PREFIX")).toBe("redis");
  });

  test("the loaded config holds every section's values under their variables' names", () => {
    const config = loadConfig({ SANDBOX_MEMORY_MB: "2048", BUDGET_TIMEZONE: "Europe/Paris", DISCORD_MAX_UPLOAD_MB: "25" });
    expect(Object.keys(config).sort()).toEqual(Object.keys(loadConfig({})).sort());
    // Unset optional variables (tokens, URLs) stay absent; nothing but config variables is kept from the environment.
    expect(Object.keys(loadConfig({ PATH: "/usr/bin", SANDBOX_HOSTS: "local=unix:///var/run/docker.sock" })).filter((name) => !SECTION_OF.has(name))).toEqual([]);
    expect(config).toMatchObject({ SANDBOX_MEMORY_MB: 2048, BUDGET_TIMEZONE: "Europe/Paris", DISCORD_MAX_UPLOAD_MB: 25, WORKER_CONCURRENCY: 4 });
  });

  test("problems in several sections are all reported at once, each naming its variable", () => {
    let error: unknown;
    try {
      loadConfig({ SANDBOX_MEMORY_MB: "lots", WORKSPACE_STORE: "gs://bucket", BUDGET_TIMEZONE: "Mars/Olympus", DISCORD_API_URL: "not a url" });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const lines = (error as ConfigError).message.split("\n");
    expect(lines[0]).toBe("Invalid configuration:");
    expect(lines.slice(1).map((line) => line.trim().split(":")[0]).sort()).toEqual(["BUDGET_TIMEZONE", "DISCORD_API_URL", "SANDBOX_MEMORY_MB", "WORKSPACE_STORE"]);
  });

  test("a section's own rules run on it alone; rules across sections once all parsed", () => {
    expect(slackProblems(slackSchema.parse({ SLACK_BOT_TOKEN: "xoxb-1" }))).toEqual(["  SLACK_SIGNING_SECRET: required for Slack's HTTP events (or set SLACK_APP_TOKEN for Socket Mode)"]);
    expect(slackProblems(slackSchema.parse({ SLACK_BOT_TOKEN: "xoxb-1", SLACK_APP_TOKEN: "xapp-1" }))).toEqual([]);
    expect(() => loadConfig({ BOT_METRICS_PORT: "3000" })).toThrow(/BOT_METRICS_PORT: must differ from PORT/);
    // Cross-section rules wait for every section to parse: only the bad value is reported.
    expect(() => loadConfig({ BOT_METRICS_PORT: "3000", SANDBOX_CPUS: "0" })).toThrow(/^Invalid configuration:\n {2}SANDBOX_CPUS: [^\n]*$/);
  });

  test("a subsystem's factory works from its own section alone", () => {
    expect(createWorkspaceStore(workspaceSchema.parse({ WORKSPACE_STORE: "none" }))).toBeUndefined();
    expect(createWorkspaceStore(workspaceSchema.parse({ WORKSPACE_STORE: "/tmp/codebot-sections" }))).toBeDefined();
    const limits = limitsFromConfig(sandboxSchema.parse({ SANDBOX_MEMORY_MB: "512" }));
    expect(limits.memoryBytes).toBe(512 * 1024 * 1024);
  });
});

describe(".env.example is grouped by the same sections", () => {
  const lines = ENV_EXAMPLE.split("\n");
  const headings = lines.flatMap((line, index) => {
    const match = HEADING.exec(line);
    return match ? [{ section: match[1]!, index }] : [];
  });

  test("one heading per section, in the config's order, then docker compose's own block", () => {
    expect(lines.filter((line) => line.startsWith("# --- ")).length, "every heading names its section in [brackets]").toBe(headings.length);
    expect(headings.map((heading) => heading.section)).toEqual([...Object.keys(CONFIG_SECTIONS), "compose"]);
  });

  test("every variable sits under its own section's heading", () => {
    const misplaced: string[] = [];
    for (const name of CONFIG_VARIABLES) {
      const at = lines.findIndex((line) => line.startsWith(`${name}=`));
      expect(at, name).toBeGreaterThan(-1);
      const under = headings.filter((heading) => heading.index < at).at(-1)?.section as ConfigSection | undefined;
      if (under !== SECTION_OF.get(name)) misplaced.push(`${name} under [${under}], belongs in [${SECTION_OF.get(name)}]`);
    }
    expect(misplaced).toEqual([]);
  });
});
