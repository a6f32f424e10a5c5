import { describe, expect, test } from "vitest";
import { periodsAt } from "../../src/core/calendar-periods.js";
import { turnWorth } from "../../src/budget/budget-policy.js";
import { loadConfig } from "../../src/config.js";
import { requestCancel } from "../../src/queue/cancellation.js";
import { answerText, finalReply, localRequest } from "../support/local-turns.js";
import { usePipeline } from "../support/pipeline-fixture.js";
import type { ChatBody, RecordedRequest } from "../support/stand-ins/chat-completions-stand-in.js";

// A small per-turn budget, so one turn's worth (1,000 + 2,000 tokens) is small against the users'
// 1,000 tokens a day; one model try (a 500 fails the call at once); a quick takeover.
const ENV = {
  TURN_MAX_TOKENS: "1000",
  MODEL_CONTEXT_TOKENS: "2000",
  BUDGET_USER_TOKENS_PER_DAY: "1000",
  OPENAI_MAX_RETRIES: "0",
  QUEUE_LOCK_SECONDS: "2",
  WORKER_CONCURRENCY: "6",
};
const WORTH = turnWorth(loadConfig(ENV));
const pipeline = usePipeline(ENV);

const python = (code: string) => ({ toolCalls: [{ name: "python", arguments: { code } }] });
const CELL = "import time\ntime.sleep(0.6)\nvalue = 6 * 7\nprint('computed', value)";

async function spentBy(userId: string) {
  const [tokens, execMs] = await pipeline.redis.hmget(pipeline.keys.budget(`user:local:${userId}`, periodsAt(Date.now()).day.key), "tokens", "exec_ms");
  const ledger = await pipeline.redis.hgetall(pipeline.keys.usage("user", `local:${userId}`));
  return {
    tokens: Number(tokens ?? 0),
    execMs: Number(execMs ?? 0),
    ledger: { tokens: Number(ledger.prompt_tokens ?? 0) + Number(ledger.completion_tokens ?? 0), requests: Number(ledger.requests ?? 0) },
  };
}

/** What the stand-in reported (or would have) for a call: prompt and completion tokens. */
const reported = (call: RecordedRequest | undefined) => call?.usage?.total_tokens ?? Number.NaN;

async function until<T>(read: () => Promise<T> | T, ok: (value: T) => boolean, what: string, timeoutMs = 30_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const holdsOf = (userId: string) => pipeline.redis.hlen(pipeline.keys.budgetHolds(`user:local:${userId}`));

/** The next turn of the thread (by another user, so the first one's budget doesn't matter): the messages the model was sent. */
async function nextPrompt(threadId: string): Promise<string> {
  pipeline.llm.script({ content: "Noted." });
  const next = localRequest(threadId, "what happened before?", undefined, `Unext-${threadId}`);
  await pipeline.queue.enqueue(next);
  expect(answerText((await finalReply(pipeline, next.eventId)).replies)).toContain("Noted.");
  return JSON.stringify(pipeline.llm.requests.at(-1)?.body.messages);
}

describe("budgets charge each model call and execution as it ends", () => {
  test("a turn whose second model call fails after code ran pays the first call and the execution, in the budgets and the ledger alike", async () => {
    const first = pipeline.llm.requests.length;
    pipeline.llm.script(python(CELL), { status: 500, message: "the model fell over" });
    const ask = localRequest("t-fails", "compute the value", undefined, "Ufail");
    await pipeline.queue.enqueue(ask);
    const { replies } = await finalReply(pipeline, ask.eventId);
    expect(answerText(replies)).toMatch(/^FAIL The model is unavailable \(HTTP 500/);
    const spent = await spentBy("Ufail");
    expect(spent.tokens).toBe(reported(pipeline.llm.requests[first]));
    expect(spent.execMs).toBeGreaterThanOrEqual(600);
    expect(spent.execMs).toBeLessThan(3000);
    expect(spent.ledger).toEqual({ tokens: spent.tokens, requests: 1 });
    await until(() => holdsOf("Ufail"), (holds) => holds === 0, "the turn's hold to be released");

    // The code ran and changed the session: the thread's next turn is told so.
    const prompt = await nextPrompt("t-fails");
    expect(prompt).toContain("value = 6 * 7");
    expect(prompt).toContain("computed 42");
    expect(prompt).toContain("This answer was cut off here: the model could not be reached");
  });

  test("a turn stopped while its answer streams pays for what streamed; the thread remembers the code, its result and the words so far", async () => {
    const first = pipeline.llm.requests.length;
    const answer = "The value is forty-two, which I computed by multiplying six by seven in the session. ".repeat(5);
    pipeline.llm.script(python(CELL), { content: answer, chunkDelayMs: 150 });
    const ask = localRequest("t-stopped", "compute the value and explain", undefined, "Ustop");
    await pipeline.queue.enqueue(ask);
    const streaming = (await until(() => pipeline.llm.requests[first + 1], (call) => (call?.sentChars ?? 0) >= 48, "the answer to stream"))!;
    await requestCancel(pipeline.redis, pipeline.keys, ask.eventId);
    expect(answerText((await finalReply(pipeline, ask.eventId)).replies)).toBe("FAIL Stopped: the request was cancelled.");
    expect(streaming.cut).toBe(true);

    const spent = await spentBy("Ustop");
    const firstCall = reported(pipeline.llm.requests[first]);
    // The cut call is estimated (its usage chunk never came): its prompt, and a token per 4 characters received.
    const estimate = spent.tokens - firstCall;
    const promptTokens = streaming.usage!.prompt_tokens;
    const received = Math.ceil((streaming.sentChars ?? 0) / 4);
    expect(estimate).toBeGreaterThan(0.5 * promptTokens + received);
    expect(estimate).toBeLessThan(1.5 * promptTokens + received + 10);
    expect(spent.ledger).toEqual({ tokens: spent.tokens, requests: 1 });
    expect(spent.execMs).toBeGreaterThanOrEqual(600);
    await until(() => holdsOf("Ustop"), (holds) => holds === 0, "the turn's hold to be released");

    const prompt = await nextPrompt("t-stopped");
    expect(prompt).toContain("value = 6 * 7");
    expect(prompt).toContain("computed 42");
    expect(prompt).toContain(answer.slice(0, 40));
    expect(prompt).toContain("This answer was cut off here: the request was stopped");
  });

  test("a stream cut before its usage chunk is charged an estimate", async () => {
    const first = pipeline.llm.requests.length;
    pipeline.llm.script(python("print('ran before the cut')"), { content: "x".repeat(400), chunkDelayMs: 20, cutAfterChars: 80 });
    const ask = localRequest("t-cut", "run it", undefined, "Ucut");
    await pipeline.queue.enqueue(ask);
    expect(answerText((await finalReply(pipeline, ask.eventId)).replies)).toMatch(/^FAIL /);
    const cut = pipeline.llm.requests[first + 1]!;
    expect(cut.cut).toBe(true);
    const spent = await spentBy("Ucut");
    const estimate = spent.tokens - reported(pipeline.llm.requests[first]);
    expect(estimate).toBeGreaterThan(0.5 * cut.usage!.prompt_tokens + 20);
    expect(estimate).toBeLessThan(1.5 * cut.usage!.prompt_tokens + 30);
    expect(spent.ledger.tokens).toBe(spent.tokens);
  });

  test("a turn taken over after its worker is killed keeps the first worker's charges, and its replayed execution is paid once", async () => {
    const first = pipeline.llm.requests.length;
    const cell = "import time\ntime.sleep(1.2)\nprint('slept once')";
    // The first worker: the code, then a model call that hangs until the worker is killed. The
    // rescuer: the same code (the sandbox answers it from memory, not run again), then the answer.
    pipeline.llm.script(python(cell), { delayMs: 20_000, then: { content: "too late" } }, python(cell), { content: "Done after the takeover." });
    const ask = localRequest("t-takeover", "sleep a bit", undefined, "Utake");
    await pipeline.queue.enqueue(ask);
    await until(() => pipeline.llm.requests.length, (count) => count >= first + 2, "the first worker's second model call");
    await pipeline.worker.kill();
    pipeline.worker = await pipeline.startWorker();
    const { replies } = await finalReply(pipeline, ask.eventId, 60_000);
    expect(answerText(replies)).toContain("Done after the takeover.");

    const calls = pipeline.llm.requests.slice(first);
    expect(calls).toHaveLength(4);
    expect(JSON.stringify(calls[3]?.body.messages)).toContain("slept once");
    const spent = await spentBy("Utake");
    // Paid: the first worker's first call, the rescuer's two; not the call the kill cut before any answer.
    expect(spent.tokens).toBe(reported(calls[0]) + reported(calls[2]) + reported(calls[3]));
    expect(spent.ledger).toEqual({ tokens: spent.tokens, requests: 1 });
    expect(spent.execMs).toBeGreaterThanOrEqual(1200);
    expect(spent.execMs).toBeLessThan(2400); // once, not twice
    await until(() => holdsOf("Utake"), (holds) => holds === 0, "the turn's hold to be released");
  });

  test("code run as written and stopped midway: its seconds are paid and the thread remembers what it printed", async () => {
    const code = "import time\nprint('first half done', flush=True)\ntime.sleep(30)\nprint('never')";
    const ask = localRequest("t-run-stopped", `\`\`\`python\n${code}\n\`\`\``, undefined, "Urun");
    await pipeline.queue.enqueue(ask);
    await pipeline.worker.waitForLog(new RegExp(`"requestId":"${ask.eventId}".*"msg":"turn started"`));
    await new Promise((resolve) => setTimeout(resolve, 2500));
    await requestCancel(pipeline.redis, pipeline.keys, ask.eventId);
    expect(answerText((await finalReply(pipeline, ask.eventId)).replies)).toBe("FAIL Stopped: the request was cancelled.");
    const spent = await spentBy("Urun");
    expect(spent.execMs).toBeGreaterThanOrEqual(1000);
    expect(spent.tokens).toBe(0);
    expect(spent.ledger.requests).toBe(0); // no model call: the ledger counts model requests
    const prompt = await nextPrompt("t-run-stopped");
    expect(prompt).toContain("time.sleep(30)");
    expect(prompt).toContain("first half done");
    expect(prompt).toContain("Stopped here: the request was cancelled.");
  });

  test("six turns of one user at once, at a limit: one runs, the others are told why; the day overshoots by at most one turn's worth", async () => {
    const limit = 1000;
    const turn = (body: ChatBody) =>
      body.messages.at(-1)?.role === "tool" ? { content: "Here is the answer, written at a model's pace. ".repeat(4), chunkDelayMs: 40 } : python("print('one step')");
    pipeline.llm.script(...Array.from({ length: 12 }, () => turn));
    const asks = Array.from({ length: 6 }, (_, i) => localRequest(`t-conc-${i}`, "answer me", undefined, "Uconc"));
    await Promise.all(asks.map((ask) => pipeline.queue.enqueue(ask)));
    const texts = await Promise.all(asks.map(async (ask) => answerText((await finalReply(pipeline, ask.eventId)).replies)));
    const answered = texts.filter((text) => text.includes("Here is the answer"));
    const held = texts.filter((text) => text.startsWith("FAIL Your requests still running may use the rest of today's budget of 1,000 model tokens, so this one was not started"));
    expect(answered.length).toBeGreaterThanOrEqual(1);
    expect(answered.length + held.length).toBe(6);
    const spent = await spentBy("Uconc");
    expect(spent.tokens).toBeLessThan(limit + WORTH.tokens);
    // Had all six run, the day would have gone over by more than a turn's worth.
    expect((6 * spent.tokens) / answered.length).toBeGreaterThan(limit + WORTH.tokens);
    await until(() => holdsOf("Uconc"), (holds) => holds === 0, "every hold to be released");
  });
});
