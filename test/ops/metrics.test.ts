import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { usePipeline } from "../support/pipeline-fixture.js";
import { answerText, finalReply, localRequest } from "../support/local-turns.js";
import { freePort } from "../support/redis-server.js";
import type { WorkerProcess } from "../support/worker-process.js";
import { bearer, eventually, getJson, scrape, total } from "./prometheus-text.js";
import { restartableRedis, type RestartableRedis } from "../support/restartable-redis.js";

let metricsPort = 0;
const pipeline = usePipeline({ METRICS_HOST: "127.0.0.1", OPENAI_MAX_RETRIES: "0" }, async () => {
  metricsPort = await freePort();
  return { METRICS_PORT: String(metricsPort) };
});
const base = () => `http://127.0.0.1:${metricsPort}`;

// What a user wrote and who they are: none of it may ever be a label value.
const SECRET_TEXT = "zebra-question-7781";
const USER_ID = "U0SECRETUSER42";
const THREAD_PREFIX = "thread-secret";

const python = (code: string) => ({ toolCalls: [{ name: "python", arguments: { code } }] });

async function ask(thread: string, text: string): Promise<string> {
  const request = localRequest(`${THREAD_PREFIX}-${thread}`, `${text} ${SECRET_TEXT}`, undefined, USER_ID);
  await pipeline.queue.enqueue(request);
  return answerText((await finalReply(pipeline, request.eventId)).replies);
}

const extraWorkers: WorkerProcess[] = [];
let outageRedis: RestartableRedis | undefined;
afterAll(async () => {
  await Promise.all(extraWorkers.map((worker) => worker.kill()));
  await outageRedis?.stop();
});

describe("the worker's /metrics, /healthz and /readyz", () => {
  test("real turns are counted: executions by status, turns by outcome, latencies, tokens by model, with bounded labels", async () => {
    // A tool call that errors, then an answer; a plain answer; a model call that fails.
    pipeline.llm.script(python("1/0"), { content: "It divided by zero." });
    expect(await ask("a", "divide one by zero")).toContain("It divided by zero.");
    pipeline.llm.script({ content: "Plain answer." });
    expect(await ask("b", "just answer")).toContain("Plain answer.");
    pipeline.llm.script({ status: 400, message: "bad request" });
    expect(await ask("c", "this one fails")).toMatch(/^FAIL /);

    const { text, samples, contentType } = await scrape(base());
    expect(contentType).toContain("text/plain");
    expect(total(samples, "codebot_executions_total", { status: "error" })).toBeGreaterThanOrEqual(1);
    expect(total(samples, "codebot_turns_total", { outcome: "answered" })).toBeGreaterThanOrEqual(2);
    expect(total(samples, "codebot_turns_total", { outcome: "failed", code: "MODEL_UNAVAILABLE" })).toBe(1);
    expect(samples.some((sample) => sample.name === "codebot_turn_duration_seconds_bucket" && sample.labels.outcome === "answered")).toBe(true);
    expect(total(samples, "codebot_turn_duration_seconds_count", { outcome: "answered" })).toBeGreaterThanOrEqual(2);
    expect(total(samples, "codebot_time_to_first_reply_seconds_count")).toBeGreaterThanOrEqual(3);
    expect(total(samples, "codebot_queue_wait_seconds_count")).toBeGreaterThanOrEqual(3);
    expect(total(samples, "codebot_model_calls_total", { model: "stand-in-model" })).toBeGreaterThanOrEqual(3);
    expect(total(samples, "codebot_model_tokens_total", { model: "stand-in-model", kind: "prompt" })).toBeGreaterThan(0);
    expect(total(samples, "codebot_model_tokens_total", { model: "stand-in-model", kind: "completion" })).toBeGreaterThan(0);
    expect(total(samples, "codebot_model_errors_total", { model: "stand-in-model", code: "MODEL_UNAVAILABLE" })).toBe(1);
    // Only the thread whose code ran opened a session: a hit or a miss on the warm pool.
    expect(total(samples, "codebot_pool_claims_total", { host: "default" })).toBe(1);
    // Gauges read at the scrape: the queue (nothing left waiting) and this host's sessions.
    expect(samples.some((sample) => sample.name === "codebot_queue_jobs" && sample.labels.state === "waiting")).toBe(true);
    expect(total(samples, "codebot_sandbox_sessions", { host: "default", state: "live" })).toBe(1);
    expect(total(samples, "codebot_sandbox_sessions", { host: "default", state: "open" })).toBe(1);
    expect(samples.some((sample) => sample.name === "codebot_sandbox_sessions" && sample.labels.state === "pooled")).toBe(true);
    expect(samples.some((sample) => sample.name === "process_cpu_user_seconds_total")).toBe(true);

    // Bounded cardinality: no label value (nor anything else) carries the user's text, id or thread.
    for (const sample of samples) {
      for (const value of Object.values(sample.labels)) {
        expect(value).not.toContain(SECRET_TEXT);
        expect(value).not.toContain(USER_ID);
        expect(value).not.toContain(THREAD_PREFIX);
      }
    }
    for (const secret of [SECRET_TEXT, USER_ID, THREAD_PREFIX, "sk-test-not-a-real-key"]) expect(text).not.toContain(secret);
    const labelNames = new Set(samples.filter((sample) => sample.name.startsWith("codebot_")).flatMap((sample) => Object.keys(sample.labels)));
    expect([...labelNames].sort()).toEqual(expect.arrayContaining(["role"]));
    for (const name of labelNames) expect(["code", "direction", "host", "kind", "le", "model", "outcome", "platform", "result", "role", "state", "status"]).toContain(name);
  });

  test("an attachment's bytes count in, an answer's files count out", async () => {
    const dir = await mkdtemp(join(tmpdir(), "codebot-metrics-"));
    await writeFile(join(dir, "numbers.csv"), "n\n" + "1\n".repeat(1500));
    pipeline.llm.script(python("open('/mnt/data/out.txt', 'w').write('x' * 5000)"), { content: "Wrote it." });
    const run = await pipeline.ask(["--thread", `${THREAD_PREFIX}-d`, "--out", join(dir, "out"), "--attach", join(dir, "numbers.csv"), `write a file ${SECRET_TEXT}`]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("Wrote it.");
    const { text, samples } = await scrape(base());
    expect(total(samples, "codebot_file_bytes_total", { direction: "in" })).toBeGreaterThanOrEqual(3002);
    expect(total(samples, "codebot_file_bytes_total", { direction: "out" })).toBeGreaterThanOrEqual(5000);
    expect(text).not.toContain("numbers.csv");
    expect(text).not.toContain(SECRET_TEXT);
  });

  test("/healthz says ok; /readyz is ready with Redis and Docker answering, and never shows a secret", async () => {
    expect(await getJson(`${base()}/healthz`)).toEqual({ status: 200, body: { status: "ok" } });
    const ready = await getJson(`${base()}/readyz`);
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: "ok", away: [], checks: { redis: "ok", docker: "ok" } });
    expect(JSON.stringify(ready.body)).not.toMatch(/redis:\/\/|sk-test/);
    expect((await fetch(`${base()}/nothing-here`)).status).toBe(404);
    expect((await fetch(`${base()}/metrics`, { method: "POST" })).status).toBe(405);
  });

  test("a metrics port already in use doesn't stop a worker: one warning, and it runs on", async () => {
    const worker = await pipeline.startWorker({ METRICS_PORT: String(metricsPort), SANDBOX_POOL_SIZE: "0" });
    extraWorkers.push(worker);
    expect(worker.logs().match(/the metrics and health endpoints could not listen/g)).toHaveLength(1);
    expect(worker.logs()).toContain('"code":"EADDRINUSE"');
    pipeline.llm.script({ content: "Still answering." });
    // Either worker may take it: both are running.
    expect(await ask("e", "are you there")).toContain("Still answering.");
    await worker.stop();
    // The first worker's endpoint was never disturbed.
    expect((await getJson(`${base()}/healthz`)).status).toBe(200);
  });

  test("with METRICS_TOKEN the worker's endpoints answer only its bearer token: without it, or with another, a 401", async () => {
    const token = "worker-ops-token-0a1b2c3d4e5f";
    const port = await freePort();
    const worker = await pipeline.startWorker({ METRICS_PORT: String(port), METRICS_TOKEN: token, SANDBOX_POOL_SIZE: "0" });
    extraWorkers.push(worker);
    const at = `http://127.0.0.1:${port}`;
    for (const path of ["/metrics", "/healthz", "/readyz"]) {
      for (const headers of [{}, bearer("worker-ops-token-wrong-000"), { authorization: `Basic ${Buffer.from(`u:${token}`).toString("base64")}` }]) {
        const response = await fetch(`${at}${path}`, { headers });
        expect(response.status, `${path} ${JSON.stringify(headers)}`).toBe(401);
        expect(await response.text()).not.toMatch(/codebot_|redis|docker/);
      }
    }
    expect(await getJson(`${at}/readyz`, token)).toMatchObject({ status: 200, body: { status: "ok" } });
    expect((await scrape(at, token)).samples.some((sample) => sample.name === "codebot_queue_jobs")).toBe(true);
    expect(worker.logs()).not.toContain(token);
    await worker.stop();
  });

  test("/readyz goes 503 naming Redis while its Redis is away, and 200 again when it is back on the same port", async () => {
    outageRedis = await restartableRedis();
    const port = await freePort();
    const worker = await pipeline.startWorker({ REDIS_URL: outageRedis.url, METRICS_PORT: String(port), SANDBOX_POOL_SIZE: "0" });
    extraWorkers.push(worker);
    const readyz = `http://127.0.0.1:${port}/readyz`;
    expect((await getJson(readyz)).status).toBe(200);
    await outageRedis.stop();
    const away = await eventually(async () => {
      const answer = await getJson(readyz);
      return answer.status === 503 ? answer : false;
    });
    expect(away.body).toMatchObject({ status: "unavailable", away: ["redis"], checks: { redis: expect.any(String), docker: "ok" } });
    expect(JSON.stringify(away.body)).not.toContain(outageRedis.url);
    // Liveness is not readiness: the process still runs, and its metrics still answer.
    expect((await getJson(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    const during = Date.now();
    expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(200);
    expect(Date.now() - during).toBeLessThan(5000);
    await outageRedis.start();
    const back = await eventually(async () => {
      const answer = await getJson(readyz);
      return answer.status === 200 ? answer : false;
    });
    expect(back.body).toMatchObject({ status: "ok", away: [] });
    expect(worker.child.exitCode).toBeNull();
  });
});
