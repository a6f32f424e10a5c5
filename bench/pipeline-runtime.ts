/**
 * Parts 1 and 2 of `npm run bench:pipeline` for one sandbox runtime: one turn with one tool call at a
 * time, then 20 threads at once for 3 rounds, each turn broken down span by span (turn-breakdown.ts),
 * and every turn checked for exactly one answer and exactly one execution. The benchmark takes the
 * runtimes' turns and rounds in turn, so a change in the machine's load falls on each alike.
 */
import { randomBytes, randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { loadConfig } from "../src/config.js";
import { createLogger } from "../src/log.js";
import { keys, type Keys } from "../src/redis/redis-keys.js";
import { TurnQueue } from "../src/queue/turn-queue.js";
import { startWorkerRuntime, type WorkerRuntime } from "../src/app/worker.js";
import { awaitAnswer } from "./local-answer.js";
import type { BenchModel } from "./model-process.js";
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

export interface BenchContext {
  redisUrl: string;
  redis: Redis;
  /** The model, in a process of its own (model-server.ts): every turn one tool call, then an answer. */
  llm: BenchModel;
  recorder: SpanRecorder;
  runs: number;
}

/** One runtime's worker, its turns taken in turn with the other runtimes' (interleaved: the machine's load falls on each alike). */
export class RuntimeUnderTest {
  private readonly single: string[] = [];
  private readonly together: string[] = [];
  private readonly turns: number[] = [];
  private executions: number[] = [];
  private concurrentMs = 0;
  private readonly readers: Redis[] = [];
  private readonly times = new Map<string, { enqueueStart: number; enqueueEnd: number; answerRead: number }>();
  private modelCalls = 0;

  private constructor(
    readonly runtime: string,
    private readonly ctx: BenchContext,
    private readonly worker: WorkerRuntime,
    private readonly queue: TurnQueue,
    private readonly k: Keys,
  ) {}

  static async start(runtimeName: string, ctx: BenchContext): Promise<RuntimeUnderTest> {
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
      OPENAI_BASE_URL: ctx.llm.baseURL,
      OPENAI_API_KEY: "sk-bench",
    });
    const worker = await startWorkerRuntime(config, createLogger(process.env.LOG_LEVEL ?? "warn"));
    const subject = new RuntimeUnderTest(runtimeName, ctx, worker, new TurnQueue(ctx.redis, prefix, 3), keys(prefix));
    await subject.turn("warm-up");
    await Promise.all(Array.from({ length: THREADS }, (_, i) => subject.turn(`warm-${i}`)));
    return subject;
  }

  /** One turn alone, timed. */
  async singleTurn(): Promise<void> {
    const started = performance.now();
    this.single.push(await this.turn("bench-thread"));
    this.turns.push(performance.now() - started);
  }

  /** The sandbox execution alone, on the single turns' session, RUNS times. */
  async executionBaseline(): Promise<void> {
    const session = await this.worker.sandboxes.session("local:-:bench:bench-thread");
    this.executions = await timeRuns(this.ctx.runs, () => session.execute("x = 1"));
  }

  /** One round: a turn in each of the THREADS threads at once. */
  async round(): Promise<void> {
    const requestsBefore = await this.ctx.llm.requestCount();
    const started = performance.now();
    this.together.push(...(await Promise.all(Array.from({ length: THREADS }, (_, i) => this.turn(`warm-${i}`)))));
    this.concurrentMs += performance.now() - started;
    // Rounds of different runtimes never overlap: the stand-in's requests in between are this round's.
    this.modelCalls += (await this.ctx.llm.requestCount()) - requestsBefore;
  }

  async result(): Promise<RuntimeResult> {
    const problems: string[] = [];
    if (this.modelCalls !== this.together.length * 2) problems.push(`${this.modelCalls} model calls for ${this.together.length} turns (2 each expected)`);
    for (const turnId of [...this.single, ...this.together]) {
      const replies = await this.ctx.redis.xrange(this.k.localReplies(turnId), "-", "+");
      const answers = replies.filter(([, fields]) => (fields[1] ?? "").includes('"type":"answer"')).length;
      if (answers !== 1) problems.push(`${turnId}: ${answers} answers`);
      if (this.ctx.recorder.executions(turnId) !== 1) problems.push(`${turnId}: ran ${this.ctx.recorder.executions(turnId)} times`);
    }
    const rowsOf = (turns: string[]) => turns.flatMap((turn) => this.ctx.recorder.rows(turn, this.times.get(turn) ?? { enqueueStart: 0, enqueueEnd: 0, answerRead: 0 }) ?? []);
    return {
      runtime: this.runtime,
      turns: this.turns,
      executions: this.executions,
      alone: medianRows(rowsOf(this.single)),
      concurrent: medianRows(rowsOf(this.together)),
      serialRate: 1000 / median(this.turns),
      concurrentRate: this.together.length / (this.concurrentMs / 1000),
      concurrentSeconds: this.concurrentMs / 1000,
      problems,
    };
  }

  async close(): Promise<void> {
    for (const reader of this.readers) reader.disconnect();
    await this.queue.close();
    await this.worker.close();
    await this.worker.sandboxes.destroyAll();
  }

  /** Enqueues a turn and reads its replies until the answer, on a connection of its own (a blocking read holds its connection). */
  private async turn(threadId: string): Promise<string> {
    const eventId = `bench:${randomUUID()}`;
    const reader = this.readers.pop() ?? this.ctx.redis.duplicate();
    try {
      const enqueueStart = performance.now();
      await this.queue.enqueue({ eventId, user: { id: "bench", name: "bench" }, conversation: { platform: "local", channelId: "bench", threadId }, text: "go", receivedAt: Date.now() });
      const enqueueEnd = performance.now();
      await awaitAnswer(reader, this.k, eventId);
      this.times.set(eventId, { enqueueStart, enqueueEnd, answerRead: performance.now() });
      return eventId;
    } finally {
      this.readers.push(reader);
    }
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
