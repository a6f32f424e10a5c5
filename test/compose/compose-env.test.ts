import { describe, expect, test } from "vitest";
import { CONFIG_VARIABLES } from "../../src/config.js";
import { environmentOf, read, readYaml, resolvedCompose, TEST_REDIS_PASSWORD } from "./compose-files.js";

/**
 * Config variables compose leaves out of the containers on purpose. DOCKER_HOST: compose itself
 * reads it (from .env too) to find its engine, and the worker reaches the sandboxes' engine through
 * the mounted socket (or SANDBOX_HOSTS).
 */
const NOT_PASSED = ["DOCKER_HOST"];
/** Read by the AWS SDK itself (the S3 workspace store), not by codebot's config. */
const AWS_SDK = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"];

const ENV_EXAMPLE = read(".env.example");
const documented = (name: string) => new RegExp(`^${name}=`, "m").test(ENV_EXAMPLE);
const codebotEnv = (): Record<string, unknown> => readYaml("docker-compose.yml")["x-codebot-env"];

describe("configuration under docker compose", () => {
  test("CONFIG_VARIABLES is the config schema's list", () => {
    expect(CONFIG_VARIABLES.length).toBeGreaterThan(50);
    for (const name of ["REDIS_URL", "OPENAI_API_KEY", "SANDBOX_IMAGE", "METRICS_PORT", "BUDGET_TIMEZONE", "DISCORD_MAX_UPLOAD_MB"]) expect(CONFIG_VARIABLES).toContain(name);
  });

  test("every config variable is in docker-compose.yml's x-codebot-env, and reaches both the worker and the bot", () => {
    const listed = Object.keys(codebotEnv());
    const missing = CONFIG_VARIABLES.filter((name) => !NOT_PASSED.includes(name) && !listed.includes(name));
    expect(missing, "add them to x-codebot-env in docker-compose.yml").toEqual([]);
    const { services } = resolvedCompose();
    for (const name of ["worker", "bot"]) {
      const environment = Object.keys(environmentOf(services[name]));
      expect(CONFIG_VARIABLES.filter((variable) => !NOT_PASSED.includes(variable) && !environment.includes(variable)), name).toEqual([]);
      for (const variable of NOT_PASSED) expect(environment, name).not.toContain(variable);
    }
  });

  test("x-codebot-env holds only config variables (and the AWS SDK's): no typo, nothing stale", () => {
    const extra = Object.keys(codebotEnv()).filter((name) => !(CONFIG_VARIABLES as readonly string[]).includes(name) && !AWS_SDK.includes(name));
    expect(extra).toEqual([]);
  });

  test("every config variable is documented in .env.example", () => {
    expect(CONFIG_VARIABLES.filter((name) => !documented(name)), "add a NAME= line with a comment to .env.example").toEqual([]);
  });

  test("every variable docker-compose.yml reads is a config variable or documented in .env.example (the compose-only ones)", () => {
    const interpolated = [...new Set([...read("docker-compose.yml").matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)/g)].map((match) => match[1]!))];
    expect(interpolated.length).toBeGreaterThan(50);
    const unknown = interpolated.filter((name) => !(CONFIG_VARIABLES as readonly string[]).includes(name) && !AWS_SDK.includes(name) && !documented(name));
    expect(unknown, "document them in .env.example's compose block").toEqual([]);
  });

  test("a value in .env reaches the containers as it is; unset, the config's default applies (compose passes an empty value)", () => {
    const given = { OPENAI_MODEL: "qwen2.5:7b", OPENAI_BASE_URL: "http://host.docker.internal:11434/v1", BUDGET_TIMEZONE: "Europe/Paris", LOG_CONTENT: "true" };
    const { services } = resolvedCompose({ env: given });
    for (const name of ["worker", "bot"]) {
      const environment = environmentOf(services[name]);
      expect(environment).toMatchObject(given);
      expect(environment.SANDBOX_POOL_SIZE).toBe("");
    }
    // What compose fixes, whatever .env says: Redis on the compose network with REDIS_PASSWORD, the workspaces' volume by default.
    const fixed = environmentOf(resolvedCompose({ env: { REDIS_URL: "redis://127.0.0.1:6379" } }).services.worker);
    expect(fixed.REDIS_URL).toBe(`redis://:${TEST_REDIS_PASSWORD}@redis:6379`);
    expect(fixed.WORKSPACE_STORE).toBe("/var/lib/codebot/workspaces");
  });
});
