import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, test } from "vitest";
import { answerText, finalReply, localRequest } from "../support/local-turns.js";
import { usePipeline } from "../support/pipeline-fixture.js";
import { S3RVER_CREDENTIALS, startS3Server, type TestS3 } from "../support/s3-server.js";

/**
 * Errors posted in chat carry no internal detail: a workspace store (S3) that stops answering, and
 * a Docker engine that isn't there, fail turns whose errors name a bucket, an endpoint address and
 * a socket path. What the person reads is a plain sentence and the request id; the worker's log,
 * found by that id, has the detail.
 */

let s3: TestS3;
const pipeline = usePipeline({}, async () => {
  s3 = await startS3Server();
  return {
    WORKSPACE_STORE: `s3://${s3.bucket}/codebot-private-prefix`,
    WORKSPACE_S3_ENDPOINT: s3.endpoint,
    WORKSPACE_S3_FORCE_PATH_STYLE: "true",
    AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    AWS_EC2_METADATA_DISABLED: "true",
  };
});

afterAll(async () => {
  await s3?.stop().catch(() => undefined);
});

async function ask(thread: string, text: string, kind: "message" | "reset" = "message"): Promise<{ eventId: string; text: string }> {
  const request = { ...localRequest(thread, text), kind };
  await pipeline.queue.enqueue(request);
  const { replies } = await finalReply(pipeline, request.eventId, 120_000);
  return { eventId: request.eventId, text: answerText(replies) };
}

/** Waits until the worker's log holds the request's failure line (its detail); returns the log. */
async function logOf(eventId: string, worker = pipeline.worker): Promise<string> {
  await worker.waitForLog(new RegExp(`"requestId":"${eventId}"[^\\n]*"msg":"turn failed"`), 30_000);
  return worker.logs();
}

describe("errors in chat carry no internal detail", () => {
  test("the workspace store (S3) stops answering: /reset fails with a plain sentence and the request id; bucket and endpoint stay in the log", async () => {
    const thread = `store-${randomBytes(3).toString("hex")}`;
    expect((await ask(thread, "```python\nopen('kept.txt', 'w').write('x')\nprint('saved')\n```")).text).toContain("saved");
    await s3.stop();
    const endpoint = new URL(s3.endpoint).host;
    const failed = await ask(thread, "", "reset");
    expect(failed.text).toMatch(/^FAIL Something went wrong on codebot's side\. \(Request id: local:[0-9a-f-]+\)$/);
    expect(failed.text).toContain(failed.eventId);
    for (const detail of [s3.bucket, endpoint, "codebot-private-prefix", "s3://", "ECONNREFUSED", "at "]) expect(failed.text).not.toContain(detail);
    const log = await logOf(failed.eventId);
    expect(log).toContain(s3.bucket);
    expect(log).toContain(endpoint);
  });

  test("the Docker engine isn't there: a run fails with a plain sentence and the request id; the engine's socket path stays in the log", async () => {
    const socket = `/tmp/codebot-no-engine-${randomBytes(4).toString("hex")}/docker.sock`;
    await pipeline.worker.kill();
    const worker = await pipeline.startWorker({ DOCKER_HOST: `unix://${socket}`, WORKSPACE_STORE: "none", SANDBOX_POOL_SIZE: "0" });
    const failed = await ask(`engine-${randomBytes(3).toString("hex")}`, "```python\nprint(1)\n```");
    expect(failed.text).toMatch(/^FAIL The code sandbox is unavailable right now\. Please try again in a moment\. \(Request id: local:[0-9a-f-]+\)$/);
    for (const detail of [socket, "docker.sock", "unix://", "ENOENT", "/tmp/"]) expect(failed.text).not.toContain(detail);
    expect(await logOf(failed.eventId, worker)).toContain(socket);
  });
});
