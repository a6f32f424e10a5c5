import { randomUUID } from "node:crypto";
import { describe, expect, test } from "vitest";
import type { ChatRequestInput, RequestKind } from "../../src/core/chat-request.js";
import { answerText, finalReply } from "../support/local-turns.js";
import { usePipeline } from "../support/pipeline-fixture.js";
import { runCli } from "../support/run-cli.js";

// One turn's prompt alone (the system prompt) is far over 100 tokens; one second of sleep is over
// the channel's second of execution.
const pipeline = usePipeline({
  BUDGET_USER_TOKENS_PER_DAY: "100",
  BUDGET_CHANNEL_EXEC_SECONDS_PER_DAY: "1",
  BUDGET_EXEMPT_USERS: "local:Uadmin",
});

function request(userId: string, channelId: string, threadId: string, text: string, kind: RequestKind = "message"): ChatRequestInput {
  return { eventId: `local:${randomUUID()}`, kind, user: { id: userId, name: `user ${userId}` }, conversation: { platform: "local", channelId, threadId }, text, receivedAt: Date.now() };
}

/** Enqueues a request and waits for its answer or failure. */
async function turn(input: ChatRequestInput) {
  await pipeline.queue.enqueue(input);
  const { replies } = await finalReply(pipeline, input.eventId);
  const final = replies.find((reply) => reply.type === "answer" || reply.type === "fail");
  return { final, text: answerText(replies) };
}

const writeFile = (name: string) => `\`\`\`python\nopen('/mnt/data/${name}', 'w').write('ran')\nprint('wrote ${name}')\n\`\`\``;
const RESETS = /resets at 00:00 UTC \(in (\d+ h( \d+ min)?|\d+ min|less than a minute)\)\. Nothing was run\.$/;

describe("budgets, through a real worker", () => {
  test("a user's first turn is answered; past the day's tokens the next turns are refused and nothing runs", async () => {
    pipeline.llm.script({ content: "Hello! Here is a fairly long answer that uses some completion tokens too." });
    const first = await turn(request("Ua", "c-user", "t-user", "hello there"));
    expect(first.final?.type, first.text).toBe("answer");
    expect(first.text).toContain("Here is a fairly long answer");

    const modelCalls = pipeline.llm.requests.length;
    const code = await turn(request("Ua", "c-user", "t-user", writeFile("refused.txt")));
    expect(code.final).toMatchObject({ type: "fail", code: "BUDGET_REACHED" });
    expect(code.final?.type === "fail" && code.final.message).toMatch(/^You've used today's budget of 100 model tokens; /);
    expect(code.final?.type === "fail" && code.final.message).toMatch(RESETS);

    const question = await turn(request("Ua", "c-user", "t-user", "one more question"));
    expect(question.final).toMatchObject({ type: "fail", code: "BUDGET_REACHED" });
    expect(pipeline.llm.requests.length).toBe(modelCalls); // the model heard nothing

    // Commands are never refused: the thread's files show the refused code wrote nothing.
    const files = await turn(request("Ua", "c-user", "t-user", "", "files"));
    expect(files.final?.type, files.text).toBe("answer");
    expect(files.text).not.toContain("refused.txt");
  });

  test("an exempt user is counted but never refused", async () => {
    pipeline.llm.script({ content: "first answer for the admin" }, { content: "second answer for the admin" });
    expect((await turn(request("Uadmin", "c-admin", "t-admin", "hello"))).text).toContain("first answer for the admin");
    const second = await turn(request("Uadmin", "c-admin", "t-admin", "and again"));
    expect(second.final?.type, second.text).toBe("answer");
    expect(second.text).toContain("second answer for the admin");
  });

  test("a channel's budget refuses another user in that channel, not in another channel", async () => {
    const slow = await turn(request("Ub", "c-shared", "t-b", "```python\nimport time\ntime.sleep(1.2)\nprint('slept')\n```"));
    expect(slow.final?.type, slow.text).toBe("answer");
    expect(slow.text).toContain("slept");

    const refused = await turn(request("Uc", "c-shared", "t-c", writeFile("shared.txt")));
    expect(refused.final).toMatchObject({ type: "fail", code: "BUDGET_REACHED" });
    expect(refused.final?.type === "fail" && refused.final.message).toMatch(/^This channel has used today's budget of 1 second of code execution; /);
    expect(refused.final?.type === "fail" && refused.final.message).toMatch(RESETS);
    const files = await turn(request("Uc", "c-shared", "t-c", "", "files"));
    expect(files.text).not.toContain("shared.txt");

    const elsewhere = await turn(request("Uc", "c-other", "t-c2", writeFile("elsewhere.txt")));
    expect(elsewhere.final?.type, elsewhere.text).toBe("answer");
    expect(elsewhere.text).toContain("wrote elsewhere.txt");
  });

  test("codebot usage budgets lists the use against the limits", async () => {
    const run = await runCli(["usage", "budgets", "--json"], { env: pipeline.env });
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as {
      limits: { user: { day: { tokens: number } } };
      users: Array<{ id: string; day: { tokens: number }; share: number }>;
      channels: Array<{ id: string; day: { execSeconds: number }; share: number }>;
    };
    expect(report.limits.user.day.tokens).toBe(100);
    expect(report.users.find((row) => row.id === "local:Ua")?.share).toBeGreaterThanOrEqual(1);
    expect(report.users.find((row) => row.id === "local:Uadmin")?.day.tokens).toBeGreaterThan(100);
    const shared = report.channels.find((row) => row.id === "local:-:c-shared");
    expect(shared?.day.execSeconds).toBeGreaterThanOrEqual(1.2);
    expect(report.channels[0]?.id).toBe("local:-:c-shared");

    const text = await runCli(["usage", "budgets"], { env: pipeline.env });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^local:Ua\ttoday: tokens \d+ of 100, exec 0 s\t/m);
    expect(text.stdout).toContain("Exempt (counted, never refused): local:Uadmin");
  });
});
