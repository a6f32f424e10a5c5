/**
 * npm run bench:redis-memory — the Redis memory an active thread takes. Runs THREADS threads of
 * TURNS turns each through an in-process worker (stand-in model; real Redis, sandboxes and a
 * directory workspace store): each turn one tool call that describes a DataFrame and draws a chart,
 * then an answer of ~800 characters. Then reads `MEMORY USAGE` of every key, grouped by what it
 * belongs to (a thread, a turn, a user), and INFO memory before and after.
 * Needs Redis (REDIS_URL, or a private redis-server is started) and the sandbox image.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Redis } from "ioredis";
import { loadConfig } from "../src/config.js";
import { createLogger } from "../src/log.js";
import { keys } from "../src/redis/redis-keys.js";
import { createRedis } from "../src/redis/redis-connection.js";
import { TurnQueue } from "../src/queue/turn-queue.js";
import { DirectoryStore } from "../src/workspace/directory-store.js";
import { threadWorkspaceId } from "../src/workspace/workspace-id.js";
import { startWorkerRuntime } from "../src/app/worker.js";
import { startChatCompletionsStandIn, type ChatBody } from "../test/support/stand-ins/chat-completions-stand-in.js";
import { awaitAnswer } from "./local-answer.js";
import { privateRedis } from "./private-redis.js";
import { median, percentile } from "./stats.js";

const THREADS = Number(process.env.THREADS ?? 10);
const TURNS = Number(process.env.TURNS ?? 10);
const ANSWER = "The four columns are centred on zero with a spread of about one: ".concat("a is the widest, d the narrowest; no outliers past three deviations. ".repeat(11));
const CODE = (seed: number) =>
  `import numpy as np, pandas as pd, matplotlib.pyplot as plt\ndf = pd.DataFrame(np.random.default_rng(${seed}).normal(size=(200, 4)), columns=list('abcd'))\nprint(df.describe())\ndf.plot(title='run ${seed}')\nplt.show()\ndf.head()`;

/** Every key of the prefix with its MEMORY USAGE (all samples), by group. */
async function keyBytes(redis: Redis, prefix: string): Promise<Map<string, Map<string, number>>> {
  const groups = new Map<string, Map<string, number>>();
  let cursor = "0";
  do {
    const [next, found] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
    cursor = next;
    for (const key of found) {
      const bytes = Number(await redis.call("MEMORY", "USAGE", key, "SAMPLES", "0"));
      const thread = /:thread:\{([^}]*)\}:/.exec(key)?.[1];
      const [group, owner] = thread ? ["thread", thread] : key.includes(":turns:") ? ["queue", "all"] : key.includes(":local:replies:") ? ["local replies (CLI only)", "all"] : ["other", key.replace(/[:{].*$/, "")];
      const byOwner = groups.get(group) ?? new Map<string, number>();
      byOwner.set(owner, (byOwner.get(owner) ?? 0) + bytes);
      groups.set(group, byOwner);
    }
  } while (cursor !== "0");
  return groups;
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
const usedMemory = async (redis: Redis) => Number(/^used_memory:(\d+)/m.exec(await redis.info("memory"))?.[1]);

async function main(): Promise<void> {
  const redisServer = await privateRedis();
  const llm = await startChatCompletionsStandIn();
  const prefix = `mem${randomBytes(3).toString("hex")}`;
  const namespace = `bench-${randomBytes(3).toString("hex")}`;
  const storeDir = mkdtempSync(join(tmpdir(), "codebot-redis-bench-"));
  const config = loadConfig({
    ...process.env,
    METRICS_PORT: "0",
    REDIS_URL: redisServer.url,
    QUEUE_PREFIX: prefix,
    SANDBOX_NAMESPACE: namespace,
    SANDBOX_POOL_SIZE: "2",
    SANDBOX_MAX_SESSIONS: String(THREADS + 5),
    SANDBOX_MAX_SESSIONS_PER_USER: String(THREADS + 5),
    WORKER_CONCURRENCY: "4",
    WORKSPACE_STORE: storeDir,
    OPENAI_BASE_URL: llm.baseURL,
    OPENAI_API_KEY: "sk-bench",
  });
  const runtime = await startWorkerRuntime(config, createLogger(process.env.LOG_LEVEL ?? "warn"));
  const redis = createRedis(config.REDIS_URL);
  const k = keys(prefix);
  const queue = new TurnQueue(redis, prefix, 3);
  const reader = redis.duplicate();
  let seed = 0;
  // Whichever thread asks: a tool call first, the answer once the tool's result is in.
  const step = (body: ChatBody) => (body.messages.at(-1)?.role === "tool" ? { content: ANSWER } : { toolCalls: [{ name: "python", arguments: { code: CODE(++seed) } }] });
  try {
    console.log(`codebot Redis memory benchmark: ${THREADS} threads x ${TURNS} turns (a DataFrame described, a chart, a ~800-character answer)\n`);
    const before = await usedMemory(redis);
    for (let turn = 0; turn < TURNS; turn++) {
      await Promise.all(
        Array.from({ length: THREADS }, async (_, thread) => {
          llm.script(step, step);
          const eventId = `bench:${randomUUID()}`;
          await queue.enqueue({ eventId, user: { id: `user-${thread}`, name: "bench" }, conversation: { platform: "local", channelId: "bench", threadId: `thread-${thread}` }, text: "describe the data and plot it", receivedAt: Date.now() });
          await awaitAnswer(reader, k, eventId);
        }),
      );
    }
    const after = await usedMemory(redis);
    const groups = await keyBytes(redis, prefix);
    const perThread = [...(groups.get("thread")?.values() ?? [])];
    const store = new DirectoryStore(storeDir);
    const imageBytes = await Promise.all(
      Array.from({ length: THREADS }, async (_, thread) => {
        const objects = await store.list(threadWorkspaceId(namespace, `local:-:bench:thread-${thread}`));
        return objects.filter((object) => object.name.startsWith("export/")).reduce((sum, object) => sum + object.size, 0);
      }),
    );
    const turns = THREADS * TURNS;
    console.log(`per thread (its keys: memory, export log, sequence; ${TURNS} turns each)  median ${kb(median(perThread))}   p95 ${kb(percentile(perThread, 95))}   = ${kb(median(perThread) / TURNS)} a turn`);
    for (const [group, byOwner] of groups) {
      if (group === "thread") continue;
      const total = [...byOwner.values()].reduce((sum, bytes) => sum + bytes, 0);
      console.log(`${group.padEnd(70)} ${kb(total)} in all = ${kb(total / turns)} a turn`);
    }
    console.log(`INFO used_memory grew by ${kb(after - before)} = ${kb((after - before) / THREADS)} a thread (${kb((after - before) / turns)} a turn, everything included)`);
    console.log(`charts kept out of Redis, in the threads' workspaces: median ${kb(median(imageBytes))} a thread (${kb(median(imageBytes) / TURNS)} a turn)`);
  } finally {
    reader.disconnect();
    await queue.close();
    redis.disconnect();
    await runtime.close();
    await runtime.sandboxes.destroyAll();
    await llm.close();
    redisServer.stop();
    rmSync(storeDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
