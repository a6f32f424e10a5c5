/**
 * npm run bench:pipeline — what the pipeline adds to a turn, with the stand-in model answering at once,
 * under each sandbox runtime asked for that the engine lists (BENCH_RUNTIMES, default "runc,runsc"), their
 * turns and rounds taken in turn:
 *  1. one turn with one tool call, enqueue → answer read, minus the sandbox execution (measured on the
 *     same session in the same run); the serial rate is 1000 / its median;
 *  2. turns per second with 20 threads at once for 3 rounds, against the serial rate, and that no turn
 *     was lost or answered twice; both broken down span by span (turn-breakdown.ts), one clock;
 *  3. streamed answers on the Slack and Discord stand-ins: the model's first token to the first words
 *     shown, against the same answer not streamed, and the platform calls per answer (streaming-bench.ts);
 *  4. what metrics and budgets add to a turn, against a worker with neither (ops-overhead-bench.ts).
 * Parts 1 and 2 take the model's answers from a process of its own (model-server.ts), as a real model
 * answers from elsewhere; parts 3 and 4 script theirs in process. Parts 3 and 4 run once, under
 * SANDBOX_RUNTIME (auto). Needs Redis (REDIS_URL, or a private
 * redis-server is started) and the sandbox image. RUNS (default 30); SKIP_EXTRAS=1 skips parts 3 and 4.
 */
import { execFileSync } from "node:child_process";
import { loadavg } from "node:os";
import { createRedis } from "../src/redis/redis-connection.js";
import { startChatCompletionsStandIn } from "../test/support/stand-ins/chat-completions-stand-in.js";
import { startModelProcess } from "./model-process.js";
import { privateRedis } from "./private-redis.js";
import { median, percentile } from "./stats.js";
import { streamingBench } from "./streaming-bench.js";
import { opsOverheadBench } from "./ops-overhead-bench.js";
import { ROUNDS, RuntimeUnderTest, runtimeReport, THREADS, type RuntimeResult } from "./pipeline-runtime.js";
import { breakdownTable, SpanRecorder } from "./turn-breakdown.js";

const RUNS = Number(process.env.RUNS ?? 30);

const load = () => loadavg().map((value) => value.toFixed(2)).join(" ");

/** The runtimes asked for that the engine lists (a missing one is named and skipped). */
function runtimesToBench(): string[] {
  const wanted = (process.env.BENCH_RUNTIMES ?? "runc,runsc").split(",").map((name) => name.trim()).filter(Boolean);
  const listed = Object.keys(JSON.parse(execFileSync("docker", ["info", "--format", "{{json .Runtimes}}"], { encoding: "utf8" })) as Record<string, unknown>);
  for (const name of wanted.filter((name) => !listed.includes(name))) console.log(`(runtime ${name} is not registered with the engine: skipped)`);
  return wanted.filter((name) => listed.includes(name));
}

function summary(results: RuntimeResult[]): string {
  const lines = [
    "| runtime | one turn alone (median / p95) | turns/s one at a time | 20 threads × 3 rounds | concurrent / serial | none lost or doubled |",
    "|---|---:|---:|---:|---:|---|",
    ...results.map(
      (r) =>
        `| ${r.runtime} | ${median(r.turns).toFixed(1)} / ${percentile(r.turns, 95).toFixed(1)} ms | ${r.serialRate.toFixed(1)} | ${r.concurrentRate.toFixed(1)} turns/s | ${(r.concurrentRate / r.serialRate).toFixed(2)}× | ${r.problems.length ? "NO" : "yes"} |`,
    ),
  ];
  const runc = results.find((r) => r.runtime === "runc");
  for (const other of results.filter((r) => r !== runc && runc)) {
    const ratio = other.concurrentRate / (runc?.concurrentRate ?? Number.NaN);
    lines.push("", `${other.runtime} concurrent / runc concurrent: ${ratio.toFixed(2)}× (target >= 0.5×: ${ratio >= 0.5 ? "PASS" : "MISS"})`);
  }
  return lines.join("\n");
}

async function main(): Promise<void> {
  const redisServer = await privateRedis();
  const model = await startModelProcess();
  const redis = createRedis(redisServer.url);
  const recorder = new SpanRecorder();
  const runtimes = runtimesToBench();
  const loadBefore = load();
  const results: RuntimeResult[] = [];
  try {
    console.log(`codebot pipeline benchmark, ${new Date().toISOString()}: ${RUNS} runs, stand-in model answering at once from its own process, ${THREADS} threads × ${ROUNDS} rounds for throughput; runtimes ${runtimes.join(", ")}`);
    console.log(`load average before (1, 5, 15 min): ${loadBefore}\n`);
    const subjects: RuntimeUnderTest[] = [];
    try {
      for (const runtime of runtimes) subjects.push(await RuntimeUnderTest.start(runtime, { redisUrl: redisServer.url, redis, llm: model, recorder, runs: RUNS }));
      // Interleaved: runtimes in turn, the first of each pass alternating, and the single turns spread
      // between the 20-thread rounds, so a change in the machine's load falls on every figure alike.
      const order = (pass: number) => (pass % 2 ? [...subjects].reverse() : subjects);
      for (let round = 0, single = 0; round < ROUNDS; round++) {
        for (const end = Math.round((RUNS * (round + 1)) / ROUNDS); single < end; single++) for (const subject of order(single)) await subject.singleTurn();
        for (const subject of order(round)) await subject.round();
      }
      for (const subject of subjects) await subject.executionBaseline();
      for (const subject of subjects) results.push(await subject.result());
    } finally {
      for (const subject of subjects) await subject.close();
    }
    for (const result of results) console.log(runtimeReport(result));
    console.log(`Summary (${new Date().toISOString().slice(0, 10)}, load average ${loadBefore} before, ${load()} after):\n`);
    console.log(summary(results));
    console.log("\nWhere a turn's time goes (each row the median over the turns, so the rows need not add up to the whole; one tool call, stand-in model):\n");
    console.log(breakdownTable(results.flatMap((r) => [{ label: `${r.runtime} alone`, medians: r.alone }, { label: `${r.runtime} ${THREADS} at once`, medians: r.concurrent }])));
    console.log("");
    if (process.env.SKIP_EXTRAS !== "1") {
      const llm = await startChatCompletionsStandIn();
      try {
        await streamingBench({ redisUrl: redisServer.url, redis, llm, runs: Number(process.env.STREAM_RUNS ?? 10) });
        await opsOverheadBench({ redisUrl: redisServer.url, llm, runs: Number(process.env.OPS_RUNS ?? RUNS) });
      } finally {
        await llm.close();
      }
    }
    if (results.some((r) => r.problems.length)) process.exitCode = 1;
  } finally {
    recorder.close();
    redis.disconnect();
    await model.close();
    redisServer.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
