import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import type { Redis } from "ioredis";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { loadConfig, type Config } from "../../src/config.js";
import { createRedis } from "../../src/redis/redis-connection.js";
import { createSandboxes, type SandboxRuntime } from "../../src/app/sandboxes.js";
import { startRedis, type TestRedis } from "../support/redis-server.js";
import { sandboxRuntimes } from "../support/runtimes.js";
import { testNamespace } from "../support/sandbox-fixture.js";
import { busyCell as busyCellOf, liveSessions, refusal } from "../support/session-cells.js";

// Session caps with durable workspaces: a session not running code sleeps at once for a new one (it
// loses nothing), so a cap refuses only when every session it counts is running code right now.

const U = "slack:U1";
let server: TestRedis;
const connections: Redis[] = [];
const runtimes: SandboxRuntime[] = [];
const stores: string[] = [];
/** Every log line of every worker this file starts, for the assertions on what was logged. */
const logged: string[] = [];
const log = pino({ level: "info" }, new Writable({ write: (chunk, _encoding, done) => void (logged.push(String(chunk)), done()) }));

beforeAll(async () => {
  server = await startRedis();
});

afterAll(async () => {
  for (const runtime of runtimes) await Promise.all(runtime.managers.map((manager) => manager.close()));
  for (const runtime of runtimes) await Promise.all(runtime.managers.map((manager) => manager.destroyAll()));
  for (const redis of connections) redis.disconnect();
  await server.stop();
  for (const dir of stores) rmSync(dir, { recursive: true, force: true });
});

/** Two workers (each its own sandboxes and Redis connection) sharing one namespace, Redis and workspace store. */
function workers(runtime: string, overrides: Record<string, string>): { config: Config; one: SandboxRuntime; two: SandboxRuntime } {
  const store = mkdtempSync(join(tmpdir(), "codebot-caps-"));
  stores.push(store);
  const config = loadConfig({
    ...process.env,
    REDIS_URL: server.url,
    QUEUE_PREFIX: `t${randomBytes(4).toString("hex")}`,
    SANDBOX_NAMESPACE: testNamespace(),
    SANDBOX_RUNTIME: runtime,
    SANDBOX_POOL_SIZE: "0",
    WORKSPACE_STORE: store,
    ...overrides,
  });
  const start = () => {
    const redis = createRedis(server.url);
    connections.push(redis);
    const created = createSandboxes(config, log, redis);
    runtimes.push(created);
    return created;
  };
  return { config, one: start(), two: start() };
}

const live = (config: Config) => liveSessions(config.SANDBOX_NAMESPACE);
const busyCell = (runtime: SandboxRuntime, config: Config, id: string, owner: string) => busyCellOf(config.SANDBOX_NAMESPACE, id, (code) => runtime.sandboxes.execute(id, code, { owner }));
const refused = async (promise: Promise<unknown>) => (await refusal(promise)).message;

describe.each(await sandboxRuntimes())("session caps with durable workspaces under %s", (runtime) => {
  test("one person, three sessions at most, four threads in a row: the fourth runs; the least recently used slept and resumes with its variables", async () => {
    // SANDBOX_EVICT_IDLE_SECONDS keeps its default (120 s): with durable workspaces it doesn't apply.
    const { config, one, two } = workers(runtime, { SANDBOX_MAX_SESSIONS_PER_USER: "3" });
    for (const [i, thread] of ["t1", "t2", "t3"].entries()) {
      const worker = i % 2 ? two : one;
      expect(await worker.sandboxes.execute(thread, `import pandas as pd\nv = ${i + 1}\ndf = pd.DataFrame({'a': [v] * 3})\nopen('/mnt/data/${thread}.txt', 'w').write('${thread}')\n'set'`, { owner: U })).toMatchObject({ status: "ok" });
    }
    expect(await one.sandboxes.execute("t4", "'fourth'", { owner: U })).toMatchObject({ status: "ok", result: "'fourth'" });
    expect(await live(config)).toEqual(["t2", "t3", "t4"]);
    const slept = await one.durable!.workspaces.summary("t1");
    expect(slept).toMatchObject({ hasState: true, files: 1 });
    expect(slept!.hibernatedAt).toBeInstanceOf(Date);

    // Its next message: back with its variables and files, nothing said (nothing was lost); t2 makes room now.
    const back = await two.sandboxes.execute("t1", "import os\n(v, int(df.a.sum()), open('/mnt/data/t1.txt').read())", { owner: U });
    expect(back).toMatchObject({ status: "ok", result: "(1, 3, 't1')", notes: [] });
    expect(await live(config)).toEqual(["t1", "t3", "t4"]);
    expect(await one.sandboxes.execute("t2", "v", { owner: U })).toMatchObject({ status: "ok", result: "2" });
    expect((await live(config)).length).toBe(3);
  });

  test("all three running code: a fourth is refused saying exactly that; once one finishes, the least recently used idle one sleeps for it", async () => {
    const { config, one, two } = workers(runtime, { SANDBOX_MAX_SESSIONS_PER_USER: "3", SANDBOX_MAX_SESSIONS: "10" });
    for (const [i, thread] of ["b1", "b2", "b3"].entries()) await (i % 2 ? two : one).sandboxes.execute(thread, `x = '${thread}'`, { owner: U });
    // Another person's idle session is not taken for this one's cap.
    await two.sandboxes.execute("other", "y = 'theirs'", { owner: "slack:U2" });
    const busy = [await busyCell(one, config, "b1", U), await busyCell(two, config, "b2", U), await busyCell(one, config, "b3", U)];
    expect(await refused(two.sandboxes.execute("b4", "1", { owner: U }))).toBe(
      "You have 3 sandbox sessions open, the most one person may have, and all 3 are running code right now. Try again when one finishes, or stop one you no longer need (/reset in its thread).",
    );
    expect(await live(config)).toEqual(["b1", "b2", "b3", "other"]);
    await busy[1]!.release(); // b2 is idle now (and the only one): it sleeps for b4
    expect(await two.sandboxes.execute("b4", "'in'", { owner: U })).toMatchObject({ status: "ok", result: "'in'" });
    expect(await live(config)).toEqual(["b1", "b3", "b4", "other"]);
    await busy[0]!.release();
    await busy[2]!.release();
    expect(await one.sandboxes.execute("b2", "x", { owner: U })).toMatchObject({ status: "ok", result: "'b2'" });
    expect(await two.sandboxes.execute("other", "y", { owner: "slack:U2" })).toMatchObject({ result: "'theirs'" });
  });

  test("the total cap likewise: anyone's least recently used idle session sleeps, and a refusal means every one is running code", async () => {
    const { config, one, two } = workers(runtime, { SANDBOX_MAX_SESSIONS: "2", SANDBOX_MAX_SESSIONS_PER_USER: "5" });
    await one.sandboxes.execute("first", "f = 'first'", { owner: "slack:A" });
    await two.sandboxes.execute("second", "s = 'second'", { owner: "slack:B" });
    expect(await one.sandboxes.execute("third", "'third'", { owner: "slack:C" })).toMatchObject({ status: "ok", result: "'third'" });
    expect(await live(config)).toEqual(["second", "third"]);
    const busy = [await busyCell(one, config, "second", "slack:B"), await busyCell(two, config, "third", "slack:C")];
    expect(await refused(one.sandboxes.execute("first", "f", { owner: "slack:A" }))).toBe("All 2 sandbox sessions are running code right now. Try again when one finishes.");
    for (const cell of busy) await cell.release();
    expect(await one.sandboxes.execute("first", "f", { owner: "slack:A" })).toMatchObject({ status: "ok", result: "'first'", notes: [] });
    expect(await live(config)).toEqual(["first", "third"]);
  });

  test("a sweep in which one session's save hangs still puts the others to sleep, and says so", async () => {
    const { config, one } = workers(runtime, { SANDBOX_IDLE_TIMEOUT_SECONDS: "10", WORKSPACE_SLEEP_TIMEOUT_SECONDS: "3", SANDBOX_MAX_SESSIONS_PER_USER: "10" });
    // Pickling this variable never ends (until the sandbox gives up on it, 120 s later): a save that hangs.
    const hanging = "import time\nclass Stuck:\n    def __reduce__(self):\n        time.sleep(3600)\nstuck = Stuck()\n'ready'";
    const threads = ["s1", "s2", "s3", "s4", "s5", "s6"];
    await one.sandboxes.execute("hangs", hanging, { owner: U });
    for (const thread of threads) await one.sandboxes.execute(thread, `kept = '${thread}'`, { owner: U });
    await new Promise((resolve) => setTimeout(resolve, 10_500)); // idle past the timeout, all of them
    await one.durable!.sweep();
    // The sweep is over while the stuck save still runs: the others are asleep, that one is awake and said.
    expect(await live(config)).toEqual(["hangs"]);
    expect(logged.some((line) => line.includes('"sessionId":"hangs"') && line.includes("taking too long to go to sleep"))).toBe(true);
    for (const thread of threads) expect((await one.durable!.workspaces.summary(thread))?.hasState).toBe(true);
    expect(await one.sandboxes.execute("s3", "kept", { owner: U })).toMatchObject({ status: "ok", result: "'s3'" });
    await one.sandboxes.kill("hangs"); // its save then fails, and nothing of it is left
  }, 180_000);
});
