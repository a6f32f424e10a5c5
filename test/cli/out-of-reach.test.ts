import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { freePort, startRedis, type TestRedis } from "../support/redis-server.js";
import { CLI, runCli, type CliRun } from "../support/run-cli.js";
import { startWorker } from "../support/worker-process.js";

/** A stack trace's frames, as Node prints them. */
const STACK = /\n\s+at /;
const NO_ENGINE = "unix:///tmp/codebot-no-engine-here.sock";
const MISSING_IMAGE = "codebot-sandbox:does-not-exist";

/** Runs the CLI and how long it took. */
async function timed(args: string[], env: Record<string, string>, input = ""): Promise<CliRun & { seconds: number }> {
  const started = Date.now();
  const run = await runCli(args, { env, input });
  return { ...run, seconds: (Date.now() - started) / 1000 };
}

/** One clear line on stderr, a non-zero exit, no stack trace and nothing from ioredis. */
function expectOneLine(run: CliRun, code: number, line: string): void {
  expect(run.code, run.stderr).toBe(code);
  expect(run.stderr).toBe(`codebot: ${line}\n`);
  expect(run.stderr).not.toMatch(STACK);
  expect(run.stderr).not.toMatch(/Unhandled error event|ioredis/);
}

describe("Redis out of reach: every command that needs it ends soon, in one line, exit 2", () => {
  let closed: number;
  let env: Record<string, string>;
  beforeAll(async () => {
    closed = await freePort();
    env = { REDIS_URL: `redis://:secret@127.0.0.1:${closed}`, QUEUE_PREFIX: `oor${randomBytes(3).toString("hex")}` };
  });
  const line = () => `Cannot reach Redis at redis://:***@127.0.0.1:${closed}: is it running (REDIS_URL)?`;

  test("`ask --wait 3` ends within its wait (plus the CLI's start), the password not shown", async () => {
    const run = await timed(["ask", "--wait", "3", "hello"], env);
    expectOneLine(run, 2, line());
    expect(run.seconds).toBeLessThan(3 + 4);
    expect(run.stdout).toBe("");
  });

  test("`ask` with the default wait, `chat`, `usage`, `usage budgets`, `export`, `sessions hibernate`, and `hosts` and `sessions` of a fleet: they give Redis 5 s, not forever", async () => {
    const runs = await Promise.all([
      timed(["ask", "hello"], env),
      timed(["chat"], env, "hello\n/quit\n"),
      timed(["usage"], env),
      timed(["usage", "budgets", "--json"], env),
      timed(["export", "--thread", "t1"], env),
      timed(["sessions", "hibernate", "some-session"], env),
      timed(["hosts", "list"], { ...env, SANDBOX_HOSTS: "local=unix:///var/run/docker.sock" }),
      timed(["sessions", "list"], { ...env, SANDBOX_HOSTS: "local=unix:///var/run/docker.sock" }),
    ]);
    for (const run of runs) {
      expectOneLine(run, 2, line());
      // Eight CLIs starting at once on a small machine take a few seconds more than one.
      expect(run.seconds).toBeLessThan(5 + 10);
    }
  });
});

describe("a worker or bot whose Redis doesn't answer, stopped while it waits to start", () => {
  // Each in a process group of its own, so whatever a failed test leaves (npm's child too) is ended.
  const groups: number[] = [];
  afterAll(() => {
    for (const group of groups) {
      try {
        process.kill(-group, "SIGKILL");
      } catch {
        // ended already
      }
    }
  });

  /** Starts `codebot COMMAND` (or through npx), and resolves once it has said Redis doesn't answer. */
  async function starting(command: string, env: Record<string, string>, viaNpx = false) {
    const [file, args] = viaNpx ? ["npx", ["--no-install", "codebot", command]] : [process.execPath, [CLI, command]];
    const child = spawn(file, args, { cwd: fileURLToPath(new URL("../..", import.meta.url)), env: { ...process.env, METRICS_PORT: "0", BOT_METRICS_PORT: "0", OPENAI_API_KEY: "sk-test-not-a-real-key", ...env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
    if (child.pid) groups.push(child.pid);
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    // Every process holding its output (npm's and the CLI's) has ended.
    const gone = new Promise<void>((resolve) => child.on("close", () => resolve()));
    for (const started = Date.now(); !output.includes("Redis connection problem"); await new Promise((resolve) => setTimeout(resolve, 50))) {
      if (child.exitCode !== null || Date.now() - started > 30_000) throw new Error(`never said Redis doesn't answer:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    return { child, exited, gone, output: () => output };
  }

  test("SIGTERM ends `codebot worker` and `codebot bot` at once, exit 0, saying so in one line", async () => {
    const closed = `redis://127.0.0.1:${await freePort()}`;
    for (const [command, env] of [["worker", {}], ["bot", { DISCORD_TOKEN: "not-a-real-token", DISCORD_API_URL: closed.replace("redis", "http") }]] as const) {
      const run = await starting(command, { REDIS_URL: closed, ...env });
      const stopping = Date.now();
      run.child.kill("SIGTERM");
      expect(await run.exited, run.output()).toBe(0);
      expect(Date.now() - stopping).toBeLessThan(3000);
      expect(run.output()).toContain(`"reason":"SIGTERM","msg":"${command} stopped while still starting (is Redis reachable?)"`);
      expect(run.output()).not.toMatch(STACK);
    }
  });

  test("through npx: npm's SIGTERM (its shell passes none on) ends the worker too, not left running on its own", async () => {
    const run = await starting("worker", { REDIS_URL: `redis://127.0.0.1:${await freePort()}` }, true);
    const stopping = Date.now();
    run.child.kill("SIGTERM");
    await run.gone;
    expect(Date.now() - stopping).toBeLessThan(5000);
    expect(run.output()).toContain(`"reason":"parent-exited","msg":"worker stopped while still starting (is Redis reachable?)"`);
  });
});

describe("no Docker engine, or no sandbox image: one sentence naming the problem and the fix", () => {
  test("`exec` with DOCKER_HOST at a socket nobody listens on", async () => {
    const run = await runCli(["exec", "-"], { env: { DOCKER_HOST: NO_ENGINE }, input: "print(1)" });
    expectOneLine(run, 2, `No Docker engine answers at ${NO_ENGINE} (ENOENT): start Docker, or set DOCKER_HOST to the engine's address.`);
    expect(run.stdout).toBe("");
  });

  test("`exec` with DOCKER_HOST at a closed TCP port, and at a host name that doesn't resolve", async () => {
    const port = await freePort();
    const refused = await runCli(["exec", "-"], { env: { DOCKER_HOST: `tcp://127.0.0.1:${port}` }, input: "print(1)" });
    expectOneLine(refused, 2, `No Docker engine answers at tcp://127.0.0.1:${port} (ECONNREFUSED): start Docker, or set DOCKER_HOST to the engine's address.`);
    const unknown = await runCli(["exec", "-"], { env: { DOCKER_HOST: "tcp://no-such-docker-host.invalid:2375" }, input: "print(1)" });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^codebot: No Docker engine answers at no-such-docker-host\.invalid \((ENOTFOUND|EAI_AGAIN)\): start Docker, or set DOCKER_HOST to the engine's address\.\n$/);
  });

  test("`exec` with SANDBOX_IMAGE an image the engine hasn't: how to build it, and no pool warnings", async () => {
    const run = await runCli(["exec", "-"], { env: { SANDBOX_IMAGE: MISSING_IMAGE, SANDBOX_NAMESPACE: `cbt-${randomBytes(4).toString("hex")}` }, input: "print(1)" });
    expectOneLine(run, 2, `The sandbox image ${MISSING_IMAGE} is not on this Docker engine: build it with \`npm run sandbox:build\` (or \`docker compose build\`).`);
    expect(run.stdout).toBe("");
  });

  test("`sessions list` and `sessions kill --all` with no engine", async () => {
    for (const args of [["sessions", "list"], ["sessions", "list", "--json"], ["sessions", "kill", "--all"]]) {
      const run = await runCli(args, { env: { DOCKER_HOST: NO_ENGINE } });
      expectOneLine(run, 2, `No Docker engine answers at ${NO_ENGINE} (ENOENT): start Docker, or set DOCKER_HOST to the engine's address.`);
      expect(run.stdout).toBe("");
    }
  });

  describe("`codebot worker`", () => {
    let redis: TestRedis;
    let env: Record<string, string>;
    beforeAll(async () => {
      redis = await startRedis();
      env = { REDIS_URL: redis.url, QUEUE_PREFIX: `oor${randomBytes(3).toString("hex")}`, OPENAI_API_KEY: "sk-test-not-a-real-key", METRICS_PORT: "0", SANDBOX_NAMESPACE: `cbt-${randomBytes(4).toString("hex")}` };
    });
    afterAll(async () => {
      await redis.stop();
    });

    test("without the sandbox image: stops at once, exit 2, one line saying how to build it (nothing could run)", async () => {
      const run = await timed(["worker"], { ...env, SANDBOX_IMAGE: MISSING_IMAGE });
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(new RegExp(`(^|\\n)codebot: The sandbox image ${MISSING_IMAGE} is not on the Docker engine at \\S+: build it with \`npm run sandbox:build\` \\(or \`docker compose build\`\\), or set SANDBOX_IMAGE\\.\\n$`));
      expect(run.stderr).not.toMatch(STACK);
      expect(run.stderr).not.toContain("worker started");
      expect(run.seconds).toBeLessThan(15);
    });

    test("with SANDBOX_RUNTIME naming a runtime the engine hasn't: stops at once, exit 2, one line", async () => {
      const run = await runCli(["worker"], { env: { ...env, SANDBOX_RUNTIME: "no-such-runtime" } });
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/(^|\n)codebot: SANDBOX_RUNTIME=no-such-runtime, but the Docker engine has no runtime of that name \(it lists [^)]+\)\. Register it .*\n$/);
      expect(run.stderr).not.toMatch(STACK);
    });

    test("with no engine: says so in one log line and keeps running (turns wait for the engine); SIGTERM stops it, exit 0", async () => {
      const worker = await startWorker({ ...env, DOCKER_HOST: NO_ENGINE });
      try {
        const lines = worker.logs().split("\n").filter((line) => line.includes("No Docker engine"));
        expect(lines).toHaveLength(1);
        const entry = JSON.parse(lines[0]!) as { level: number; code: string; msg: string; err?: unknown };
        expect(entry).toMatchObject({ level: 50, code: "DOCKER_UNAVAILABLE" });
        expect(entry.msg).toBe(`No Docker engine answers at ${NO_ENGINE} (ENOENT): start Docker, or set DOCKER_HOST to the engine's address. The worker keeps running: turns wait for the engine (up to OUTAGE_WAIT_SECONDS), and the pool fills once it answers.`);
        expect(entry.err).toBeUndefined();
        expect(worker.logs()).not.toMatch(STACK);
        expect(worker.logs()).not.toContain("could not warm the sandbox pool");
      } finally {
        expect(await worker.stop()).toBe(0);
      }
    });
  });
});
