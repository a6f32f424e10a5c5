import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, describe, expect, test } from "vitest";
import { answerText, finalReply, localRequest } from "../support/local-turns.js";
import { usePipeline } from "../support/pipeline-fixture.js";
import { freePort } from "../support/redis-server.js";
import { linesHolding } from "../support/secret-lines.js";

/**
 * The model's API key reaches neither a log line nor the chat: an endpoint (a misbehaving proxy)
 * that answers 400 quoting the request's Authorization header back, and one at a closed port. The
 * turns fail with plain sentences; the worker's every line (LOG_LEVEL=debug) is searched for the key.
 */

const KEY = `sk-proj-${randomBytes(20).toString("hex")}`;
let echo: Server;

const pipeline = usePipeline({ OPENAI_API_KEY: KEY, OPENAI_MAX_RETRIES: "0" }, async () => {
  echo = createServer((req, res) => {
    const body = { error: { message: `Invalid request from ${req.headers.authorization} (${req.headers["user-agent"]})`, type: "invalid_request_error", code: null } };
    res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => echo.listen(0, "127.0.0.1", resolve));
  return { OPENAI_BASE_URL: `http://127.0.0.1:${(echo.address() as AddressInfo).port}/v1` };
});

afterAll(async () => {
  await new Promise((resolve) => echo?.close(resolve));
});

async function ask(worker = pipeline.worker): Promise<string> {
  const request = localRequest(`key-${randomBytes(3).toString("hex")}`, "what is 2 + 2?");
  await pipeline.queue.enqueue(request);
  const { replies } = await finalReply(pipeline, request.eventId, 60_000);
  await worker.waitForLog(new RegExp(`"requestId":"${request.eventId}"[^\\n]*"msg":"turn failed"`), 30_000);
  return answerText(replies);
}

describe("the model's API key never reaches a log line or the chat", () => {
  test("an endpoint that quotes the Authorization header back in its error", async () => {
    const text = await ask();
    expect(text).toMatch(/^FAIL The model rejected the request \(HTTP 400\)\. \(Request id: local:/);
    expect(linesHolding(text, [KEY])).toEqual([]);
    const log = pipeline.worker.logs();
    expect(log).toContain("Invalid request from Bearer [redacted]");
    expect(linesHolding(log, [KEY])).toEqual([]);
  });

  test("an endpoint at a closed port", async () => {
    await pipeline.worker.kill();
    const worker = await pipeline.startWorker({ OPENAI_BASE_URL: `http://127.0.0.1:${await freePort()}/v1` });
    const text = await ask(worker);
    expect(text).toMatch(/^FAIL The model endpoint can't be reached/);
    expect(worker.logs()).toMatch(/ECONNREFUSED|Connection error/);
    expect(linesHolding(`${text}\n${worker.logs()}`, [KEY])).toEqual([]);
  });
});
