import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Redis } from "ioredis";
import { afterAll, beforeAll } from "vitest";
import { loadConfig, type Config } from "../../src/config.js";
import { createLogger } from "../../src/log.js";
import { createRedis } from "../../src/redis/redis-connection.js";
import { createSandboxes, type SandboxRuntime } from "../../src/app/sandboxes.js";
import { startRedis, type TestRedis } from "./redis-server.js";
import { testNamespace } from "./sandbox-fixture.js";

export interface DurableRuntime {
  runtime: SandboxRuntime;
  config: Config;
}

/**
 * The sandboxes as a worker builds them (createSandboxes): Redis of the file's own, durable
 * workspaces in a directory store of its own, a namespace of its own. Everything it made (sandboxes,
 * store, Redis) is removed after the file's tests, whatever happened in them. `env` is read when
 * the file's hooks run (a second engine's address, say).
 */
export function useDurableRuntime(overrides: Record<string, string>, env: () => Record<string, string> = () => ({})): DurableRuntime {
  const holder = {} as DurableRuntime;
  let server: TestRedis | undefined;
  let redis: Redis | undefined;
  let storeDir: string | undefined;
  beforeAll(async () => {
    server = await startRedis();
    redis = createRedis(server.url);
    storeDir = await mkdtemp(join(tmpdir(), "codebot-contract-"));
    holder.config = loadConfig({
      ...process.env,
      SANDBOX_NAMESPACE: testNamespace(),
      QUEUE_PREFIX: `t${randomBytes(4).toString("hex")}`,
      REDIS_URL: server.url,
      WORKSPACE_STORE: storeDir,
      ...overrides,
      ...env(),
    });
    holder.runtime = createSandboxes(holder.config, createLogger(process.env.LOG_LEVEL ?? "warn"), redis);
  });
  afterAll(async () => {
    const managers = holder.runtime?.managers ?? [];
    holder.runtime?.fleet?.stopChecking();
    await Promise.all(managers.map((manager) => manager.close()));
    await Promise.all(managers.map((manager) => manager.destroyAll()));
    redis?.disconnect();
    await server?.stop();
    if (storeDir) await rm(storeDir, { recursive: true, force: true });
  });
  return holder;
}
