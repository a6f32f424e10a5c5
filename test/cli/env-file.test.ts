import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createRedis } from "../../src/redis/redis-connection.js";
import { freePort, startRedis, type TestRedis } from "../support/redis-server.js";
import { runCli } from "../support/run-cli.js";

let redis: TestRedis;
let dir: string;
const prefix = `envfile${randomBytes(3).toString("hex")}`;
// The test runner sets CODEBOT_ENV_FILE=none for every codebot process (vitest.config.ts); these read a file on purpose.
const readsEnvFile = { CODEBOT_ENV_FILE: "", REDIS_URL: "", QUEUE_PREFIX: "" };

beforeAll(async () => {
  redis = await startRedis();
  dir = await mkdtemp(join(tmpdir(), "codebot-envfile-"));
  // Something to see: one user's tokens under this prefix, so `usage` shows it only when QUEUE_PREFIX came from .env.
  const client = createRedis(redis.url);
  await client.hset(`${prefix}:usage:user:local:from-dotenv`, { prompt_tokens: 11, completion_tokens: 22, requests: 1 });
  client.disconnect();
});

afterAll(async () => {
  const client = createRedis(redis.url);
  await client.del(`${prefix}:usage:user:local:from-dotenv`);
  client.disconnect();
  await redis.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("the .env of the working folder, outside compose", () => {
  test("is read before the config: REDIS_URL and QUEUE_PREFIX from .env reach Redis", async () => {
    await writeFile(join(dir, ".env"), `# as cp .env.example .env leaves it\nREDIS_URL=${redis.url}\nexport QUEUE_PREFIX="${prefix}"\nOPENAI_MODEL=\n\nNOTE="two\nlines"\n`);
    const run = await runCli(["usage", "--json"], { cwd: dir, env: readsEnvFile });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual([expect.objectContaining({ id: "local:from-dotenv", prompt_tokens: 11, completion_tokens: 22 })]);
  });

  test("a variable set in the environment wins over .env", async () => {
    const closed = await freePort();
    await writeFile(join(dir, ".env"), `REDIS_URL=${redis.url}\nQUEUE_PREFIX=${prefix}\n`);
    const run = await runCli(["usage", "--json"], { cwd: dir, env: { ...readsEnvFile, REDIS_URL: `redis://127.0.0.1:${closed}` } });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`codebot: Cannot reach Redis at redis://127.0.0.1:${closed}: is it running (REDIS_URL)?\n`);
  });

  test("a malformed .env is one line naming the line, without echoing it (it may be a secret)", async () => {
    await writeFile(join(dir, ".env"), `REDIS_URL=${redis.url}\n# fine\nsk-live-pasted-without-a-name\n`);
    const run = await runCli(["usage"], { cwd: dir, env: readsEnvFile });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe("codebot: .env: line 3 is not NAME=value (nor a # comment): fix it, or set CODEBOT_ENV_FILE=none to skip the file.\n");
    expect(run.stdout).toBe("");
  });

  test("a bad value from .env is named, and said to come from .env", async () => {
    await writeFile(join(dir, ".env"), "SANDBOX_MEMORY_MB=lots\n");
    const run = await runCli(["usage"], { cwd: dir, env: { ...readsEnvFile, SANDBOX_MEMORY_MB: "" } });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^codebot: Invalid configuration:\n {2}SANDBOX_MEMORY_MB: .*\n\(SANDBOX_MEMORY_MB comes from \.env\)\n$/);
  });

  test("CODEBOT_ENV_FILE names another file, or none; a named file that isn't there is an error", async () => {
    await writeFile(join(dir, ".env"), "this line would stop the command\n");
    await writeFile(join(dir, "staging.env"), `REDIS_URL=${redis.url}\nQUEUE_PREFIX=${prefix}\n`);
    const other = await runCli(["usage", "--json"], { cwd: dir, env: { ...readsEnvFile, CODEBOT_ENV_FILE: "staging.env" } });
    expect(other.code, other.stderr).toBe(0);
    expect(JSON.parse(other.stdout)).toHaveLength(1);
    const none = await runCli(["usage", "--json"], { cwd: dir, env: { ...readsEnvFile, CODEBOT_ENV_FILE: "none", REDIS_URL: redis.url, QUEUE_PREFIX: prefix } });
    expect(none.code, none.stderr).toBe(0);
    const missing = await runCli(["usage"], { cwd: dir, env: { ...readsEnvFile, CODEBOT_ENV_FILE: join(dir, "prod.env") } });
    expect(missing).toMatchObject({ code: 2, stderr: `codebot: Cannot read ${join(dir, "prod.env")} (ENOENT): fix CODEBOT_ENV_FILE, or set it to none.\n` });
  });

  test("no .env in the folder: nothing is read, nothing is said", async () => {
    const empty = await mkdtemp(join(tmpdir(), "codebot-noenv-"));
    const run = await runCli(["usage", "--json"], { cwd: empty, env: { ...readsEnvFile, REDIS_URL: redis.url, QUEUE_PREFIX: prefix } });
    await rm(empty, { recursive: true, force: true });
    expect(run).toMatchObject({ code: 0, stderr: "" });
  });
});
