import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { loadConfig } from "../../src/config.js";
import { keys, type Keys } from "../../src/redis/redis-keys.js";
import { createRedis } from "../../src/redis/redis-connection.js";
import { TurnQueue } from "../../src/queue/turn-queue.js";
import { createLogger } from "../../src/log.js";
import { createSandboxManager } from "../../src/sandbox/docker/create-sandbox-manager.js";
import { startChatCompletionsStandIn, type ChatCompletionsStandIn } from "./stand-ins/chat-completions-stand-in.js";
import { startRedis, type TestRedis } from "./redis-server.js";
import { runCli, type CliRun } from "./run-cli.js";
import { startWorker, type WorkerProcess } from "./worker-process.js";
import type { Redis } from "ioredis";

export interface Pipeline {
  /** The environment every process of this pipeline gets (worker, ask). */
  env: Record<string, string>;
  llm: ChatCompletionsStandIn;
  redis: Redis;
  keys: Keys;
  queue: TurnQueue;
  worker: WorkerProcess;
  startWorker(extra?: Record<string, string>, options?: { viaNpx?: boolean }): Promise<WorkerProcess>;
  ask(args: string[], extra?: Record<string, string>): Promise<CliRun>;
}

/**
 * The whole pipeline for real: a private Redis, a real `codebot worker` process with real sandboxes,
 * the real `openai` SDK talking HTTP to a scripted stand-in. Each test file gets its own Redis key
 * prefix and sandbox namespace, and everything is torn down afterwards.
 */
export function usePipeline(extraEnv: Record<string, string> = {}, lateEnv: () => Promise<Record<string, string>> = async () => ({})): Pipeline {
  const pipeline = {} as Pipeline;
  let server: TestRedis;
  const workers: WorkerProcess[] = [];
  // Each file's workspaces in a folder of its own, removed afterwards (extraEnv may name another store).
  const workspaceDir = mkdtempSync(join(tmpdir(), "codebot-workspaces-"));
  beforeAll(async () => {
    server = await startRedis();
    pipeline.llm = await startChatCompletionsStandIn();
    const prefix = `p${randomBytes(4).toString("hex")}`;
    pipeline.env = {
      REDIS_URL: server.url,
      QUEUE_PREFIX: prefix,
      SANDBOX_NAMESPACE: `cbt-${randomBytes(4).toString("hex")}`,
      SANDBOX_POOL_SIZE: "1",
      SANDBOX_MAX_SESSIONS_PER_USER: "50", // one test user opens many threads
      OPENAI_BASE_URL: pipeline.llm.baseURL,
      OPENAI_API_KEY: "sk-test-not-a-real-key",
      OPENAI_MODEL: "stand-in-model",
      OUTAGE_WAIT_SECONDS: "0", // a scripted model failure fails at once; riding out outages is tested on its own
      WORKSPACE_STORE: workspaceDir,
      ...extraEnv,
      ...(await lateEnv()),
    };
    pipeline.redis = createRedis(server.url);
    pipeline.keys = keys(prefix);
    pipeline.queue = new TurnQueue(pipeline.redis, prefix, 3);
    pipeline.startWorker = async (extra = {}, options = {}) => {
      const worker = await startWorker({ ...pipeline.env, ...extra }, options);
      workers.push(worker);
      return worker;
    };
    pipeline.ask = (args, extra = {}) => runCli(["ask", ...args], { env: { ...pipeline.env, ...extra } });
    pipeline.worker = await pipeline.startWorker();
  });
  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.kill()));
    const config = loadConfig({ ...process.env, ...pipeline.env });
    await createSandboxManager(config, createLogger("silent")).destroyAll();
    await pipeline.queue?.close();
    pipeline.redis?.disconnect();
    await pipeline.llm?.close();
    await server?.stop();
    rmSync(workspaceDir, { recursive: true, force: true });
  });
  return pipeline;
}
