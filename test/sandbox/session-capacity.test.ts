import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { loadConfig, type Config } from "../../src/config.js";
import { createLogger } from "../../src/log.js";
import { createRedis } from "../../src/redis/redis-connection.js";
import { createSandboxManager } from "../../src/sandbox/docker/create-sandbox-manager.js";
import { RedisSessionCapacity } from "../../src/sandbox/redis-session-capacity.js";
import type { SandboxManager } from "../../src/sandbox/sandbox-manager.js";
import { SandboxError } from "../../src/sandbox/sandbox-error.js";
import { sessionNaming } from "../../src/sandbox/session-naming.js";
import { startRedis, type TestRedis } from "../support/redis-server.js";
import { busyCell as busyCellOf, liveSessions, refusal } from "../support/session-cells.js";
import { testNamespace } from "../support/sandbox-fixture.js";

const run = promisify(execFile);
const log = createLogger(process.env.LOG_LEVEL ?? "warn");
let server: TestRedis;
const connections: Redis[] = [];
const managers: SandboxManager[] = [];

beforeAll(async () => {
  server = await startRedis();
});

afterAll(async () => {
  await Promise.all(managers.map((manager) => manager.close()));
  await Promise.all(managers.map((manager) => manager.destroyAll()));
  for (const redis of connections) redis.disconnect();
  await server.stop();
});

function connect(): Redis {
  const redis = createRedis(server.url);
  connections.push(redis);
  return redis;
}

/** Two workers ("processes": each its own manager and Redis connection) sharing one namespace and one Redis. */
function workers(overrides: Record<string, string>): { config: Config; one: SandboxManager; two: SandboxManager } {
  const config = loadConfig({
    ...process.env,
    REDIS_URL: server.url,
    QUEUE_PREFIX: `t${randomBytes(4).toString("hex")}`,
    SANDBOX_NAMESPACE: testNamespace(),
    SANDBOX_POOL_SIZE: "0",
    SANDBOX_MAX_SESSIONS_PER_USER: "100",
    ...overrides,
  });
  const [one, two] = [createSandboxManager(config, log, connect()), createSandboxManager(config, log, connect())];
  managers.push(one, two);
  return { config, one, two };
}

const live = (config: Config) => liveSessions(config.SANDBOX_NAMESPACE);
const busyCell = (manager: SandboxManager, config: Config, id: string) => busyCellOf(config.SANDBOX_NAMESPACE, id, (code) => manager.execute(id, code));

describe("session capacity in Redis", () => {
  test("forty reservations racing from two connections for two slots: exactly two win, and one owner's cap holds", async () => {
    const options = { key: `t${randomBytes(4).toString("hex")}:slots`, maxSessions: 2, maxPerOwner: 100, expireMs: 60_000, evictAfterMs: 0 };
    const stores = [new RedisSessionCapacity(connect(), options), new RedisSessionCapacity(connect(), options)];
    const outcomes = await Promise.all(Array.from({ length: 40 }, (_, i) => stores[i % 2]!.reserve({ key: `s${i}`, leaseMs: 60_000, evict: true })));
    expect(outcomes.filter((outcome) => outcome.kind === "reserved")).toHaveLength(2);
    expect(outcomes.filter((outcome) => outcome.kind === "full")).toHaveLength(38);

    const perOwner = { ...options, key: `${options.key}:owner`, maxSessions: 50, maxPerOwner: 3 };
    const owned = [new RedisSessionCapacity(connect(), perOwner), new RedisSessionCapacity(connect(), perOwner)];
    const mine = await Promise.all(Array.from({ length: 20 }, (_, i) => owned[i % 2]!.reserve({ key: `m${i}`, owner: "slack:U1", leaseMs: 60_000, evict: true })));
    expect(mine.filter((outcome) => outcome.kind === "reserved")).toHaveLength(3);
    expect(mine.find((outcome) => outcome.kind === "full")).toEqual({ kind: "full", scope: "user", held: 3, limit: 3, leaving: 0 });
    expect(await owned[0]!.reserve({ key: "other-user", owner: "slack:U2", leaseMs: 60_000, evict: true })).toEqual({ kind: "reserved", evicted: [] });
  });
});

describe("sandbox sessions under a cap", () => {
  test("six threads racing a cap of two from two workers: never more than two live, each served in turn as others go idle", async () => {
    const { config, one, two } = workers({ SANDBOX_MAX_SESSIONS: "2", SANDBOX_EVICT_IDLE_SECONDS: "0" });
    let most = 0;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        most = Math.max(most, (await live(config)).length);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const refusals: SandboxError[] = [];
    const results = await Promise.all(
      Array.from({ length: 6 }, async (_, i) => {
        const manager = i % 2 ? two : one;
        for (;;) {
          try {
            return await manager.execute(`thread-${i}`, `import time\ntime.sleep(0.3)\n'served ${i}'`);
          } catch (error) {
            if (!(error instanceof SandboxError) || error.code !== "SESSION_LIMIT") throw error;
            refusals.push(error);
            await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 200));
          }
        }
      }),
    );
    watching = false;
    await watcher;
    expect(results.map((result) => result.result)).toEqual(Array.from({ length: 6 }, (_, i) => `'served ${i}'`));
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(2);
    // While both slots were busy the others were refused cleanly, with the limit named.
    expect(refusals.length).toBeGreaterThanOrEqual(4);
    // Idle sessions make room at once (SANDBOX_EVICT_IDLE_SECONDS=0): a refusal means both were running code.
    expect(refusals[0]!.message).toBe("All 2 sandbox sessions are running code right now. Try again when one finishes.");
    expect((await live(config)).length).toBeLessThanOrEqual(2);
  });

  test("all sessions busy: a new one is refused; once idle, the least recently used is ended for it", async () => {
    const { config, one, two } = workers({ SANDBOX_MAX_SESSIONS: "2", SANDBOX_EVICT_IDLE_SECONDS: "0" });
    await one.execute("older", "x = 'older'");
    await two.execute("newer", "x = 'newer'");
    const busy = [await busyCell(one, config, "older"), await busyCell(two, config, "newer")];
    await refusal(one.execute("third", "1"));
    expect(await live(config)).toEqual(["newer", "older"]);
    for (const cell of busy) await cell.release();

    await two.execute("newer", "x"); // "older" is now the least recently used
    expect(await one.execute("third", "x = 'third'\nx")).toMatchObject({ status: "ok", result: "'third'" });
    expect(await live(config)).toEqual(["newer", "third"]);
    expect(await two.execute("newer", "x")).toMatchObject({ status: "ok", result: "'newer'" });
  });

  test("one user's cap: refused while their sessions are busy, then their own idle session makes room, not another user's", async () => {
    const { config, one, two } = workers({ SANDBOX_MAX_SESSIONS: "4", SANDBOX_MAX_SESSIONS_PER_USER: "2", SANDBOX_EVICT_IDLE_SECONDS: "0" });
    await two.execute("v-first", "1", { owner: "slack:V" }); // the oldest session, another user's
    await one.execute("u-1", "1", { owner: "slack:U" });
    await two.execute("u-2", "x = 'kept'", { owner: "slack:U" });
    const busy = [await busyCell(one, config, "u-1"), await busyCell(two, config, "u-2")];
    const refused = await refusal(one.execute("u-3", "1", { owner: "slack:U" }));
    expect(refused.message).toBe("You have 2 sandbox sessions open, the most one person may have, and all 2 are running code right now. Try again when one finishes, or stop one you no longer need (/reset in its thread).");
    expect(await two.execute("v-second", "'fine'", { owner: "slack:V" })).toMatchObject({ status: "ok", result: "'fine'" });
    for (const cell of busy) await cell.release(); // "u-1" goes idle first: it is this user's least recently used

    expect(await one.execute("u-3", "'room made'", { owner: "slack:U" })).toMatchObject({ status: "ok", result: "'room made'" });
    expect(await live(config)).toEqual(["u-2", "u-3", "v-first", "v-second"]);
    expect(await two.execute("u-2", "x", { owner: "slack:U" })).toMatchObject({ result: "'kept'" });
  });

  test("a session whose container died behind the manager's back gives its slot back", async () => {
    const { config, one, two } = workers({ SANDBOX_MAX_SESSIONS: "2", SANDBOX_EVICT_IDLE_SECONDS: "3600" });
    await one.execute("gone-soon", "1");
    await two.execute("stays", "1");
    await refusal(two.execute("waiting", "1")); // both idle, but not long enough to be ended for it
    await run("docker", ["rm", "-f", sessionNaming(config.SANDBOX_NAMESPACE).sessionName("gone-soon")]);
    expect(await two.execute("waiting", "'in'")).toMatchObject({ status: "ok", result: "'in'" });
    expect(await live(config)).toEqual(["stays", "waiting"]);
    await refusal(one.execute("gone-soon", "1")); // its slot went to "waiting": the cap still holds
  });

  test("without Redis (codebot exec) live containers are counted, and ending one frees its place", async () => {
    const config = loadConfig({ ...process.env, SANDBOX_NAMESPACE: testNamespace(), SANDBOX_POOL_SIZE: "0", SANDBOX_MAX_SESSIONS: "1" });
    const manager = createSandboxManager(config, log);
    managers.push(manager);
    await manager.execute("exec-1", "1");
    const refused = await refusal(manager.execute("exec-2", "1"));
    expect(refused.message).toMatch(/^The only sandbox session is in use\. Try again later: a session is freed once it has been idle for 30 minutes\.$/);
    expect(await manager.kill("exec-1")).toBe(true);
    expect(await manager.execute("exec-2", "'next'")).toMatchObject({ status: "ok", result: "'next'" });
  });
});
