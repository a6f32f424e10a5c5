/**
 * Part 4 of `npm run bench:pipeline`: what metrics and budgets add to a turn. Two workers in this
 * process, each with its own queue prefix and sandboxes, take the same one-tool-call turn in turn
 * (interleaved, the first of each round alternating, so the machine's load falls on both alike): one with METRICS_PORT=0 and no budgets
 * (nothing counted: the baseline), one serving /metrics with budgets per user and channel set (each
 * turn checked against four limits and charged in Redis). Target: at most 1 ms median added.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { createServer } from "node:net";
import { loadConfig } from "../src/config.js";
import { createLogger } from "../src/log.js";
import { keys } from "../src/redis/redis-keys.js";
import { createRedis } from "../src/redis/redis-connection.js";
import { TurnQueue } from "../src/queue/turn-queue.js";
import { startWorkerRuntime } from "../src/app/worker.js";
import type { ChatCompletionsStandIn } from "../test/support/stand-ins/chat-completions-stand-in.js";
import { awaitAnswer } from "./local-answer.js";
import { median, percentile, row } from "./stats.js";

const TARGET_MS = 1;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

export async function opsOverheadBench({ redisUrl, llm, runs }: { redisUrl: string; llm: ChatCompletionsStandIn; runs: number }): Promise<void> {
  const log = createLogger(process.env.LOG_LEVEL ?? "warn");
  const budgets = {
    BUDGET_USER_TOKENS_PER_DAY: "1000000000",
    BUDGET_USER_TOKENS_PER_MONTH: "1000000000",
    BUDGET_USER_EXEC_SECONDS_PER_DAY: "1000000",
    BUDGET_CHANNEL_TOKENS_PER_DAY: "1000000000",
    BUDGET_CHANNEL_EXEC_SECONDS_PER_MONTH: "1000000",
  };
  const variants = [
    { label: "metrics off, no budgets (baseline)", env: { METRICS_PORT: "0" } },
    { label: "metrics on, budgets set", env: { METRICS_PORT: String(await freePort()), METRICS_HOST: "127.0.0.1", ...budgets } },
  ];
  const redis = createRedis(redisUrl);
  const reader = redis.duplicate();
  const subjects = await Promise.all(
    variants.map(async (variant) => {
      const prefix = `benchops${randomBytes(3).toString("hex")}`;
      const config = loadConfig({ ...process.env, REDIS_URL: redisUrl, QUEUE_PREFIX: prefix, SANDBOX_NAMESPACE: `bench-${randomBytes(3).toString("hex")}`, SANDBOX_POOL_SIZE: "1", OPENAI_BASE_URL: llm.baseURL, OPENAI_API_KEY: "sk-bench", ...variant.env });
      return { ...variant, prefix, runtime: await startWorkerRuntime(config, log), queue: new TurnQueue(redis, prefix, 3) };
    }),
  );
  const turn = async (subject: (typeof subjects)[number]) => {
    llm.script({ toolCalls: [{ name: "python", arguments: { code: "x = 1" } }] }, { content: "done" });
    const eventId = `bench:${randomUUID()}`;
    await subject.queue.enqueue({ eventId, user: { id: "bench", name: "bench" }, conversation: { platform: "local", channelId: "bench", threadId: "ops" }, text: "go", receivedAt: Date.now() });
    await awaitAnswer(reader, keys(subject.prefix), eventId);
  };
  try {
    for (const subject of subjects) for (let i = 0; i < 3; i++) await turn(subject); // sessions open, caches warm
    // In turn, the first of each round alternating, so neither always runs right after the other.
    const off: number[] = [];
    const on: number[] = [];
    for (let i = 0; i < runs; i++) {
      const order = i % 2 ? [1, 0] : [0, 1];
      for (const index of order) {
        const started = performance.now();
        await turn(subjects[index]!);
        (index === 0 ? off : on).push(performance.now() - started);
      }
    }
    const added = median(on) - median(off);
    const pairs = on.map((sample, i) => sample - (off[i] ?? 0));
    console.log(`4. metrics and budgets: the same turn on two workers, ${runs} runs each, interleaved`);
    console.log(row(`   ${subjects[0]?.label}`, off));
    console.log(row(`   ${subjects[1]?.label}`, on));
    console.log(`   added: ${added.toFixed(2)} ms median (median of paired differences ${median(pairs).toFixed(2)} ms, p95 of turns ${percentile(on, 95).toFixed(2)} vs ${percentile(off, 95).toFixed(2)} ms); ratio ${(median(on) / median(off)).toFixed(3)}`);
    console.log(`   target <= ${TARGET_MS} ms median added: ${added <= TARGET_MS ? "PASS" : "MISS"}\n`);
  } finally {
    for (const subject of subjects) {
      await subject.queue.close();
      await subject.runtime.close();
      await subject.runtime.sandboxes.destroyAll();
    }
    reader.disconnect();
    redis.disconnect();
  }
}
