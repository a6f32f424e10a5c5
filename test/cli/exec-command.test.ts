import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startRedis, type TestRedis } from "../support/redis-server.js";
import { sandboxRuntimes } from "../support/runtimes.js";
import { useSandboxes } from "../support/sandbox-fixture.js";
import { runCli } from "../support/run-cli.js";

const { manager, config } = useSandboxes();
/** Filled in before the tests: the file's own Redis and workspace store (`--session` is durable and shares the workers' slots). */
const env: Record<string, string> = { SANDBOX_NAMESPACE: config.SANDBOX_NAMESPACE, SANDBOX_POOL_SIZE: "1" };
let dir: string;
let redis: TestRedis;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "codebot-cli-"));
  await writeFile(join(dir, "sales data (2024).csv"), "region,amount\nnorth,10\nsouth,30\nnorth,20\n");
  await writeFile(join(dir, "script.py"), "total = sum(range(5))\nprint('total', total)\n");
  redis = await startRedis();
  Object.assign(env, { REDIS_URL: redis.url, QUEUE_PREFIX: "execcli", WORKSPACE_STORE: join(dir, "workspaces") });
});

afterAll(async () => {
  await redis?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** The running sessions of this file's namespace. */
const running = async () => (await manager.listSessions()).map((session) => session.sessionId);

describe("codebot exec", () => {
  test("plain mode prints what the code wrote, then the last value, and exits 0", async () => {
    const run = await runCli(["exec", "-"], { env, input: "import sys\nprint('hello')\nprint('warn', file=sys.stderr)\n6 * 7" });
    expect(run).toMatchObject({ code: 0, stdout: "hello\n42\n" });
    expect(run.stderr).toContain("warn\n");
  });

  test("code from a FILE; exit 1 and the traceback on stderr when it raises", async () => {
    expect(await runCli(["exec", join(dir, "script.py")], { env })).toMatchObject({ code: 0, stdout: "total 10\n" });
    const failing = await runCli(["exec", "-"], { env, input: "raise ValueError('bad input')" });
    expect(failing.code).toBe(1);
    expect(failing.stderr).toContain("ValueError: bad input");
  });

  test("--json prints one object in the documented shape, with attachments under /mnt/data", async () => {
    const code = "import pandas as pd\nimport matplotlib.pyplot as plt\ndf = pd.read_csv('/mnt/data/sales data (2024).csv')\nm = df.groupby('region').amount.median()\nm.plot.bar()\nm.to_csv('/mnt/data/medians.csv')\nprint(m.to_dict())";
    const run = await runCli(["exec", "--json", "--attach", join(dir, "sales data (2024).csv"), "-"], { env, input: code });
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({ status: "ok", stdout: "{'north': 15.0, 'south': 30.0}\n", stderr: "" });
    expect(result.files).toEqual([{ path: "/mnt/data/medians.csv", size: expect.any(Number), mime: "text/csv" }]);
    expect(result.images).toHaveLength(1);
    expect(result.images[0]).toMatchObject({ mime: "image/png", data: expect.stringMatching(/^iVBORw0KGgo/) });
    expect(typeof result.durationMs).toBe("number");
  });

  test("--timeout ends a long cell with status timeout", async () => {
    const run = await runCli(["exec", "--json", "--timeout", "1", "-"], { env, input: "import time\ntime.sleep(30)" });
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({ status: "timeout", error: { name: "KeyboardInterrupt" } });
  });

  test("--session keeps state across invocations until killed; sessions list shows it", async () => {
    expect((await runCli(["exec", "--session", "cli:keep", "-"], { env, input: "kept = 'across runs'" })).code).toBe(0);
    expect(await runCli(["exec", "--session", "cli:keep", "-"], { env, input: "kept" })).toMatchObject({ code: 0, stdout: "'across runs'\n" });
    const list = await runCli(["sessions", "list", "--json"], { env });
    expect(JSON.parse(list.stdout).map((session: { sessionId: string }) => session.sessionId)).toContain("cli:keep");
    expect(await runCli(["sessions", "kill", "cli:keep"], { env })).toMatchObject({ code: 0 });
    const fresh = await runCli(["exec", "--session", "cli:keep", "-"], { env, input: "'kept' in globals()" });
    expect(fresh.stdout).toBe("False\n");
    expect(await runCli(["sessions", "kill", "no-such-session"], { env })).toMatchObject({ code: 1 });
  });

  test("a session without --session is ephemeral", async () => {
    await runCli(["exec", "-"], { env, input: "1" });
    const ids = (await manager.listSessions()).map((session) => session.sessionId);
    expect(ids.filter((id) => id.startsWith("exec-"))).toEqual([]);
  });

  test("bad usage and missing files get a clear message and exit 2", async () => {
    const missing = await runCli(["exec", "--attach", join(dir, "nope.csv"), "-"], { env, input: "1" });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(`codebot: Cannot read ${join(dir, "nope.csv")}: no such file.\n`);
    const badTimeout = await runCli(["exec", "--timeout", "soon", "-"], { env, input: "1" });
    expect(badTimeout).toMatchObject({ code: 2, stderr: expect.stringContaining("--timeout takes a number") });
    expect((await runCli(["frobnicate"], { env })).stderr).toContain('Unknown command "frobnicate"');
    const badConfig = await runCli(["exec", "-"], { env: { ...env, SANDBOX_MEMORY_MB: "many" }, input: "1" });
    expect(badConfig).toMatchObject({ code: 2, stderr: expect.stringContaining("SANDBOX_MEMORY_MB") });
  });

  test("a file over the size cap is refused before anything runs", async () => {
    const big = join(dir, "big.bin");
    await writeFile(big, Buffer.alloc(2 * 1024 * 1024));
    const run = await runCli(["exec", "--attach", big, "-"], { env: { ...env, SANDBOX_MAX_FILE_MB: "1" }, input: "print('ran')" });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(/"big.bin" is 2.0 MB, over the 1.0 MB limit/);
  });
});

describe.each(await sandboxRuntimes())("codebot exec --session under %s: an ordinary durable session", (runtime) => {
  test("`codebot sessions hibernate` puts it to sleep; the next exec resumes it with its variables and files and says what was lost", async () => {
    const here = { ...env, SANDBOX_RUNTIME: runtime };
    const id = `cli:durable-${runtime}`;
    const setup = "import pandas as pd\ndf = pd.DataFrame({'a': [1, 2]})\ngen = (i for i in range(3))\nopen('/mnt/data/kept.txt', 'w').write('kept')\n'set'";
    expect(await runCli(["exec", "--session", id, "-"], { env: here, input: setup })).toMatchObject({ code: 0, stdout: "'set'\n" });
    expect(await runCli(["sessions", "hibernate", id], { env: here })).toMatchObject({ code: 0, stdout: `Session ${id} is asleep: its files and variables are saved, and its next message resumes it.\n` });
    expect(await running()).not.toContain(id);
    const back = await runCli(["exec", "--session", id, "-"], { env: here, input: "print(int(df.a.sum()), open('/mnt/data/kept.txt').read(), 'gen' in globals())" });
    expect(back).toMatchObject({ code: 0, stdout: "3 kept False\n" });
    expect(back.stderr).toMatch(/^\[ok\] This thread's session had gone to sleep while idle and is back with its files and variables, except gen \(.*\): these could not be kept/m);
    expect(await runCli(["sessions", "kill", id], { env: here })).toMatchObject({ code: 0 });
  });

  test("run without Redis, its session is put to sleep all the same, and resumes", async () => {
    const offline = { ...env, SANDBOX_RUNTIME: runtime, REDIS_URL: "redis://127.0.0.1:1" };
    const id = `cli:offline-${runtime}`;
    expect(await runCli(["exec", "--session", id, "-"], { env: offline, input: "z = 21" })).toMatchObject({ code: 0 });
    expect(await runCli(["sessions", "hibernate", id], { env: { ...env, SANDBOX_RUNTIME: runtime } })).toMatchObject({ code: 0, stdout: expect.stringContaining("is asleep") });
    expect(await running()).not.toContain(id);
    expect(await runCli(["exec", "--session", id, "-"], { env: offline, input: "z * 2" })).toMatchObject({ code: 0, stdout: "42\n", stderr: "" });
    expect(await runCli(["sessions", "kill", id], { env: offline })).toMatchObject({ code: 0 });
  });
});
