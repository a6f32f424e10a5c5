/**
 * npm run bench:pipeline — what the pipeline adds to a turn, with the stand-in model answering at once:
 *  1. one turn with one tool call, enqueue → answer delivered, minus the sandbox execution
 *     (measured on the same session in the same run);
 *  2. turns per second with 20 threads at once, and that no turn was lost or answered twice;
 *  3. streamed answers on the Slack and Discord stand-ins: the model's first token to the first words
 *     shown, against the same answer not streamed, and the platform calls per answer (streaming-bench.ts);
 *  4. what metrics and budgets add to a turn, against a worker with neither (ops-overhead-bench.ts).
 * Needs Redis (REDIS_URL, or a private redis-server is started) and the sandbox image. RUNS (default 30).
 */
import { randomBytes, randomUUID } from "node:crypto";
import { loadConfig } from "../src/config.js";
import { createLogger } from "../src/log.js";
import { keys } from "../src/redis/redis-keys.js";
import { createRedis } from "../src/redis/redis-connection.js";
import { TurnQueue } from "../src/queue/turn-queue.js";
import { startWorkerRuntime } from "../src/app/worker.js";
import { startChatCompletionsStandIn } from "../test/stand-ins/chat-completions-stand-in.js";
import { awaitAnswer } from "./local-answer.js";
import { privateRedis } from "./private-redis.js";
import { median, percentile, row, timeRuns } from "./stats.js";
import { streamingBench } from "./streaming-bench.js";
import { opsOverheadBench } from "./ops-overhead-bench.js";

const RUNS = Number(process.env.RUNS ?? 30);
const THREADS = 20;


async function main(): Promise<void> {
  const redisServer = await privateRedis();
  const llm = await startChatCompletionsStandIn();
  const prefix = `bench${randomBytes(3).toString("hex")}`;
  const config = loadConfig({
    ...process.env,
    METRICS_PORT: process.env.METRICS_PORT ?? "0", // in-process workers: no endpoint to fight over
    REDIS_URL: redisServer.url,
    QUEUE_PREFIX: prefix,
    SANDBOX_NAMESPACE: `bench-${randomBytes(3).toString("hex")}`,
    SANDBOX_POOL_SIZE: "2",
    SANDBOX_MAX_SESSIONS: String(THREADS + 5),
    SANDBOX_MAX_SESSIONS_PER_USER: String(THREADS + 5), // one bench user opens every thread
    WORKER_CONCURRENCY: String(THREADS),
    OPENAI_BASE_URL: llm.baseURL,
    OPENAI_API_KEY: "sk-bench",
  });
  const log = createLogger(process.env.LOG_LEVEL ?? "warn");
  const runtime = await startWorkerRuntime(config, log);
  const redis = createRedis(config.REDIS_URL);
  const k = keys(prefix);
  const queue = new TurnQueue(redis, prefix, 3);
  const reader = redis.duplicate();

  async function turn(threadId: string): Promise<void> {
    llm.script({ toolCalls: [{ name: "python", arguments: { code: "x = 1" } }] }, { content: "done" });
    const eventId = `bench:${randomUUID()}`;
    await queue.enqueue({ eventId, user: { id: "bench", name: "bench" }, conversation: { platform: "local", channelId: "bench", threadId }, text: "go", receivedAt: Date.now() });
    await awaitAnswer(reader, k, eventId);
  }

  try {
    console.log(`codebot pipeline benchmark: ${RUNS} runs, stand-in model answering at once, ${THREADS} threads for throughput\n`);
    await turn("warm-up");
    const turns = await timeRuns(RUNS, () => turn("bench-thread"));
    const session = await runtime.sandboxes.session("local:-:bench:bench-thread");
    const executions = await timeRuns(RUNS, () => session.execute("x = 1"));
    const overhead = turns.map((t) => t - median(executions));
    console.log("1. one turn with one tool call, enqueue -> answer delivered");
    console.log(row("   whole turn", turns));
    console.log(row("   baseline: the sandbox execution alone", executions));
    console.log(row("   pipeline overhead (turn - median execution)", overhead));
    console.log(`   target median overhead <= 30 ms: ${median(overhead) <= 30 ? "PASS" : "MISS"}\n`);

    await Promise.all(Array.from({ length: THREADS }, (_, i) => turn(`warm-${i}`)));
    const requestsBefore = llm.requests.length;
    const started = performance.now();
    const rounds = 3;
    for (let round = 0; round < rounds; round++) await Promise.all(Array.from({ length: THREADS }, (_, i) => turn(`warm-${i}`)));
    const seconds = (performance.now() - started) / 1000;
    const answered = rounds * THREADS;
    const modelCalls = llm.requests.length - requestsBefore;
    console.log(`2. ${THREADS} threads at once, ${rounds} rounds: ${(answered / seconds).toFixed(1)} turns/s (${answered} turns in ${seconds.toFixed(2)} s)`);
    console.log(`   model calls ${modelCalls} for ${answered} turns (2 each expected): ${modelCalls === answered * 2 ? "no turn lost or run twice" : "MISMATCH"}`);
    console.log(`   p95 of single-turn latency above: ${percentile(turns, 95).toFixed(2)} ms\n`);
    await streamingBench({ redisUrl: redisServer.url, redis, llm, runs: Number(process.env.STREAM_RUNS ?? 10) });
    await opsOverheadBench({ redisUrl: redisServer.url, llm, runs: Number(process.env.OPS_RUNS ?? RUNS) });
  } finally {
    reader.disconnect();
    await queue.close();
    redis.disconnect();
    await runtime.close();
    await runtime.sandboxes.destroyAll();
    await llm.close();
    redisServer.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
