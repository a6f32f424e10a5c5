import { randomBytes } from "node:crypto";
import { describe, expect, test } from "vitest";
import type { ChatRequestInput } from "../../../src/core/chat-request.js";
import { runBotFor } from "../../support/bot-process.js";
import { usePipeline } from "../../support/pipeline-fixture.js";
import { freePort } from "../../support/redis-server.js";
import { linesHolding } from "../../support/secret-lines.js";

/**
 * No Discord token reaches a log line: Discord's API is pointed at a closed port, the bot (its
 * gateway login) and the worker (its delivery) are made to call it, and every line they write
 * (LOG_LEVEL=debug) is searched for the token.
 */

const TOKEN = `MTk4NjIyNDgzNDcxOTI1MjQ4.${randomBytes(4).toString("hex")}.${randomBytes(16).toString("hex")}`;

const pipeline = usePipeline({ DISCORD_TOKEN: TOKEN }, async () => ({ DISCORD_API_URL: `http://127.0.0.1:${await freePort()}/api` }));

describe("Discord tokens never reach a log line", () => {
  test("the bot whose Discord API is out of reach: it stops saying so, and writes no token", async () => {
    const { output, code } = await runBotFor(pipeline.env, 60_000);
    expect(code).not.toBe(0);
    expect(output).toMatch(/ECONNREFUSED|fetch failed/);
    expect(linesHolding(output, [TOKEN])).toEqual([]);
  });

  test("the worker whose Discord API is out of reach: the delivery's failures are logged, the token is not", async () => {
    const channel = "123456789012345678";
    const request: ChatRequestInput = {
      eventId: `discord:${Date.now()}`,
      user: { id: "42", name: "alice" },
      conversation: { platform: "discord", workspaceId: "987654321098765432", channelId: channel, threadId: channel },
      text: "hi",
      receivedAt: Date.now(),
    };
    pipeline.llm.script({ content: "Hello." });
    await pipeline.queue.enqueue(request);
    await pipeline.worker.waitForLog(/could not tell the user/, 90_000);
    const output = pipeline.worker.logs();
    expect(output).toMatch(/ECONNREFUSED|fetch failed/);
    expect(linesHolding(output, [TOKEN])).toEqual([]);
  });
});
