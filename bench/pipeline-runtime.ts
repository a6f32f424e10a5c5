/**
 * Parts 1 and 2 of `npm run bench:pipeline` for one sandbox runtime: one turn with one tool call at a
 * time, then 20 threads at once for 3 rounds, each turn broken down span by span (turn-breakdown.ts),
 * and every turn checked for exactly one answer and exactly one execution.
 */
import { randomBytes, randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { loadConfig } from "../src/config.js";
import { createLogger } from "../src/log.js";
import { keys } from "../src/redis/redis-keys.js";
import { TurnQueue } from "../src/queue/turn-queue.js";
import { startWorkerRuntime } from "../src/app/worker.js";
import type { ChatBody, ChatCompletionsStandIn, ResponseSpec } from "../test/stand-ins/chat-completions-stand-in.js";
import { awaitAnswer } from "./local-answer.js";
import { median, row, timeRuns } from "./stats.js";
import { medianRows, type SpanRecorder, type SpanRow } from "./turn-breakdown.js";

export const THREADS = 20;
export const ROUNDS = 3;

export interface RuntimeResult {
  runtime: string;
  /** Whole single turns, enqueue -> answer read (ms). */
  turns: number[];
  /** The same session's execution alone (ms). */
  executions: number[];
  alone: Record<SpanRow, number>;
  concurrent: Record<SpanRow, number>;
  serialRate: number;
  concurrentRate: number;
  concurrentSeconds: number;
  /** Turns with no answer, more than one answer, or not exactly one execution; model calls off. */
  problems: string[];
}

// Each turn's first model call asks for one tool call, its second (after the tool's result) answers.
const oneToolCall = (body: ChatBody): ResponseSpec =>
  body.messages.at(-1)?.role === "tool" ? { content: "done" } : { toolCalls: [{ name: "python", arguments: { code: "x = 1" } }] };

export async function benchRuntime(runtimeName: string, ctx: { redisUrl: string; redis: Redis; llm: ChatCompletionsStandIn; recorder: SpanRecorder; runs: number }): Promise<RuntimeResult> {
  const { redis, llm, recorder } = ctx;
  const prefix = `bench${randomBytes(3).toString("hex")}`;
  const config = loadConfig({
    ...process.env,
    METRICS_PORT: process.env.METRICS_PORT ?? "0", // in-process workers: no endpoint to fight over
    REDIS_URL: ctx.redisUrl,
    QUEUE_PREFIX: prefix,
    SANDBOX_RUNTIME: runtimeName,
    SANDBOX_NAMESPACE: `bench-${randomBytes(3).toString("hex")}`,
    SANDBOX_POOL_SIZE: "2",
    SANDBOX_MAX_SESSIONS: String(THREADS + 5),
    SANDBOX_MAX_SESSIONS_PER_USER: String(THREADS + 5), // one bench user opens every thread
    WORKER_CONCURRENCY: String(THREADS),
    OPENAI_BASE_URL: llm.baseURL,
    OPENAI_API_KEY: "sk-bench",
  });
  const runtime = await startWorkerRuntime(config, createLogger(process.env.LOG_LEVEL ?? "warn"));
  const k = keys(prefix);
  const queue = new TurnQueue(redis, prefix, 3);
  const readers: Redis[] = [];
  const times = new Map<string, { enqueueStart: number; enqueueEnd: number; answerRead: number }>();

  async function turn(threadId: string): Promise<string> {
    llm.script(oneToolCall, oneToolCall);
    const eventId = `bench:${randomUUID()}`;
    const reader = readers.pop() ?? redis.duplicate();
    try {
      const enqueueStart = performance.now();
      await queue.enqueue({ eventId, user: { id: "bench", name: "bench" }, conversation: { platform: "local", channelId: "bench", threadId }, text: "go", receivedAt: Date.now() });
      const enqueueEnd = performance.now();
      await awaitAnswer(reader, k, eventId);
      times.set(eventId, { enqueueStart, enqueueEnd, answerRead: performance.now() });
      return eventId;
    } finally {
      readers.push(reader);
    }
  }
  const rowsOf = (turns: string[]) => turns.flatMap((turn) => recorder.rows(turn, times.get(turn) ?? { enqueueStart: 0, enqueueEnd: 0, answerRead: 0 }) ?? []);

  try {
    await turn("warm-up");
    const single: string[] = [];
    const turns = await timeRuns(ctx.runs, async () => single.push(await turn("bench-thread")));
    const session = await runtime.sandboxes.session("local:-:bench:bench-thread");
    const executions = await timeRuns(ctx.runs, () => session.execute("x = 1"));

    await Promise.all(Array.from({ length: THREADS }, (_, i) => turn(`warm-${i}`)));
    const requestsBefore = llm.requests.length;
    const together: string[] = [];
    const started = performance.now();
    for (let round = 0; round < ROUNDS; round++) together.push(...(await Promise.all(Array.from({ length: THREADS }, (_, i) => turn(`warm-${i}`)))));
    const concurrentSeconds = (performance.now() - started) / 1000;
    const problems: string[] = [];
    const modelCalls = llm.requests.length - requestsBefore;
    if (modelCalls !== together.length * 2) problems.push(`${modelCalls} model calls for ${together.length} turns (2 each expected)`);
    for (const turnId of [...single, ...together]) {
      const replies = await redis.xrange(k.localReplies(turnId), "-", "+");
      const answers = replies.filter(([, fields]) => (fields[1] ?? "").includes('"type":"answer"')).length;
      if (answers !== 1) problems.push(`${turnId}: ${answers} answers`);
      if (recorder.executions(turnId) !== 1) problems.push(`${turnId}: ran ${recorder.executions(turnId)} times`);
    }
    return {
      runtime: runtimeName,
      turns,
      executions,
      alone: medianRows(rowsOf(single)),
      concurrent: medianRows(rowsOf(together)),
      serialRate: 1000 / median(turns),
      concurrentRate: together.length / concurrentSeconds,
      concurrentSeconds,
      problems,
    };
  } finally {
    for (const reader of readers) reader.disconnect();
    await queue.close();
    await runtime.close();
    await runtime.sandboxes.destroyAll();
  }
}

/** Parts 1 and 2 as text, for one runtime. */
export function runtimeReport(result: RuntimeResult): string {
  const overhead = result.turns.map((t) => t - median(result.executions));
  return [
    `[${result.runtime}] 1. one turn with one tool call, enqueue -> answer read`,
    row("   whole turn", result.turns),
    row("   baseline: the sandbox execution alone", result.executions),
    row("   pipeline overhead (turn - median execution)", overhead),
    `   target median overhead <= 30 ms: ${median(overhead) <= 30 ? "PASS" : "MISS"}`,
    `[${result.runtime}] 2. ${THREADS} threads at once, ${ROUNDS} rounds: ${result.concurrentRate.toFixed(1)} turns/s (${THREADS * ROUNDS} turns in ${result.concurrentSeconds.toFixed(2)} s)`,
    `   serial rate 1000 / ${median(result.turns).toFixed(2)} ms = ${result.serialRate.toFixed(1)} turns/s; concurrent / serial = ${(result.concurrentRate / result.serialRate).toFixed(2)}x (target >= 1.5x: ${result.concurrentRate >= 1.5 * result.serialRate ? "PASS" : "MISS"})`,
    `   ${result.problems.length ? `PROBLEMS: ${result.problems.slice(0, 5).join("; ")}` : "every turn answered once, its code run once: none lost or doubled"}`,
    "",
  ].join("\n");
}
