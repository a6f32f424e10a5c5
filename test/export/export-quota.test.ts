import { describe, expect, test } from "vitest";
import type { LocalReply } from "../../src/platforms/local/local-replies.js";
import { localRequest, repliesOf } from "../support/local-turns.js";
import { usePipeline } from "../support/pipeline-fixture.js";

// One MB a person a day: each turn below records ~270 KB (stdout, stderr and value at their caps).
const pipeline = usePipeline({ EXPORT_LOG_MAX_MB_PER_USER_DAY: "1" });

type Answer = Extract<LocalReply, { type: "answer" }>;
const HEAVY = "```python\nimport sys\nprint('a' * 100000)\nsys.stderr.write('b' * 100000)\n'c' * 100000\n```";
const NOTE = "This turn was not kept for /export: it would pass the 1 MB one person may record for export in a day (EXPORT_LOG_MAX_MB_PER_USER_DAY).";

async function turn(threadId: string, text: string, userId: string, kind: "message" | "export" = "message"): Promise<Answer> {
  const request = { ...localRequest(threadId, text, undefined, userId), kind };
  await pipeline.queue.enqueue(request);
  for (const started = Date.now(); Date.now() - started < 90_000; await new Promise((resolve) => setTimeout(resolve, 100))) {
    const replies = await repliesOf(pipeline, request.eventId);
    const answer = replies.find((reply): reply is Answer => reply.type === "answer");
    if (answer) return answer;
    if (replies.some((reply) => reply.type === "fail")) throw new Error(`failed: ${JSON.stringify(replies)}`);
  }
  throw new Error(`no answer to ${request.eventId}`);
}

describe("Redis can't be filled by one person: the export log's daily quota", () => {
  test("past EXPORT_LOG_MAX_MB_PER_USER_DAY a turn is answered but not recorded, and its answer says so; another person records on", async () => {
    const answers: Answer[] = [];
    for (let i = 0; i < 4; i++) answers.push(await turn(`quota-${i % 2}`, HEAVY, "U-heavy"));
    for (const answer of answers.slice(0, 3)) expect(answer.markdown).not.toContain("not kept for /export");
    // The fourth ran and was answered as usual (its output is there), with the note at the end.
    expect(answers[3]!.markdown).toContain("aaaa");
    expect(answers[3]!.markdown).toContain(NOTE);
    const entries = async (threadId: string) => (await pipeline.redis.lrange(pipeline.keys.thread(`local:-:cli:${threadId}`, "export"), 0, -1)).length;
    expect([await entries("quota-0"), await entries("quota-1")]).toEqual([2, 1]);
    // Someone else, the same day, in the same thread: recorded.
    expect((await turn("quota-1", HEAVY, "U-other")).markdown).not.toContain("not kept for /export");
    expect(await entries("quota-1")).toBe(2);
    const exported = await turn("quota-1", "", "U-other", "export");
    expect(exported.markdown).toContain("2 turns, 2 code cells");
  });
});
