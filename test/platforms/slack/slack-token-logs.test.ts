import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { ChatRequestInput } from "../../../src/core/chat-request.js";
import { runBotFor } from "../../support/bot-process.js";
import { usePipeline } from "../../support/pipeline-fixture.js";
import { freePort, startRedis, type TestRedis } from "../../support/redis-server.js";
import { linesHolding } from "../../support/secret-lines.js";
import { appMention, eventCallback, postToSlackApp } from "../../support/stand-ins/slack-events.js";

/**
 * No Slack token reaches a log line. Slack's WebClient puts the original HTTP request (with its
 * `Authorization: Bearer xoxb-…` header) on the errors it throws unless told not to, and Node's
 * report of an unhandled rejection prints an error whole: so the Slack API is pointed at a closed
 * port (no retries, so the failures come at once), the bot and the worker are made to call it, and
 * every line they write (LOG_LEVEL=debug) is searched for the tokens.
 */

const hex = () => randomBytes(16).toString("hex");
const BOT_TOKEN = `xoxb-1111-2222-${hex()}`;
const APP_TOKEN = `xapp-1-A0CODEBOT1-3333-${hex()}`;
const SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
let closedApi: string;
let redis: TestRedis;

const pipeline = usePipeline({ SLACK_API_RETRIES: "0" }, async () => {
  closedApi = `http://127.0.0.1:${await freePort()}/api/`;
  return { SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: closedApi };
});

beforeAll(async () => {
  redis = await startRedis();
});

afterAll(async () => {
  await redis?.stop();
});

const botEnv = (extra: Record<string, string> = {}) => ({ REDIS_URL: redis.url, SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_API_URL: closedApi, SLACK_API_RETRIES: "0", ...extra });

describe("Slack tokens never reach a log line", () => {
  test("the bot (HTTP events) whose Slack API is out of reach: the failures are logged, the token is not", async () => {
    const port = await freePort();
    const { output } = await runBotFor(botEnv({ SLACK_SIGNING_SECRET: SECRET, PORT: String(port) }), 20_000, async (logs) => {
      // Once it listens, an event makes its listeners call Slack too (user names, reactions).
      for (let i = 0; i < 200 && !/"msg":"bot started"/.test(logs()); i++) await new Promise((resolve) => setTimeout(resolve, 50));
      const event = appMention({ user: "U0ALICE001", text: "<@U0BOTUSER1> hi", channel: "C0LOGS", ts: "1720000000.000100" }, "T0TEAM0001");
      await postToSlackApp(`http://127.0.0.1:${port}/slack/events`, eventCallback(event, "T0TEAM0001", "U0BOTUSER1"), SECRET, "event").catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 3000));
    });
    expect(output).toMatch(/ECONNREFUSED/);
    expect(output).toMatch(/A request error occurred/);
    expect(linesHolding(output, [BOT_TOKEN, SECRET])).toEqual([]);
  });

  test("the bot in Socket Mode whose Slack API is out of reach: it stops with a clear line, and no token is written", async () => {
    const { output, code } = await runBotFor(botEnv({ SLACK_APP_TOKEN: APP_TOKEN }), 20_000);
    expect(code).not.toBe(0);
    expect(output).toMatch(/ECONNREFUSED/);
    expect(linesHolding(output, [BOT_TOKEN, APP_TOKEN])).toEqual([]);
  });

  test("the worker whose Slack API is out of reach: the delivery's failures are logged, the token is not", async () => {
    const request: ChatRequestInput = {
      eventId: `slack:T0TEAM0001:C0LOGS:${Date.now()}.000200`,
      user: { id: "U0ALICE001", name: "alice" },
      conversation: { platform: "slack", workspaceId: "T0TEAM0001", channelId: "C0LOGS", threadId: "1720000000.000200" },
      text: "hi",
      replyContext: { threadTs: "1720000000.000200" },
      receivedAt: Date.now(),
    };
    pipeline.llm.script({ content: "Hello." });
    await pipeline.queue.enqueue(request);
    await pipeline.worker.waitForLog(/could not tell the user/, 60_000);
    const output = pipeline.worker.logs();
    expect(output).toMatch(/A request error occurred: connect ECONNREFUSED/);
    expect(linesHolding(output, [BOT_TOKEN, SECRET])).toEqual([]);
  });
});
