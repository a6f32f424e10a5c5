import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { FailureLog } from "../../src/ops/failure-log.js";
import { usePipeline } from "../support/pipeline-fixture.js";

const pipeline = usePipeline();
const python = (code: string) => ({ toolCalls: [{ name: "python", arguments: { code } }] });

/** The worker's audit lines (one JSON object per line, `"audit":"turn"`). */
function auditLines(logs: string): Array<Record<string, unknown>> {
  return logs
    .split("\n")
    .filter((line) => line.includes('"audit":"turn"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function waitForAudit(logs: () => string, count: number): Promise<Array<Record<string, unknown>>> {
  const started = Date.now();
  while (auditLines(logs()).length < count) {
    if (Date.now() - started > 10_000) throw new Error(`expected ${count} audit lines:\n${logs()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return auditLines(logs());
}

describe("one audit line per turn, and failed turns kept for the admin page", () => {
  test("an answered turn: who, where, model, steps, tokens, seconds, bytes; no message text anywhere in the worker's log", async () => {
    const dir = await mkdtemp(join(tmpdir(), "codebot-audit-"));
    await writeFile(join(dir, "numbers.csv"), "n\n1\n2\n3\n");
    pipeline.llm.script(python("import pandas as pd\nprint(pd.read_csv('/mnt/data/numbers.csv').n.sum())"), { content: "The sum is 6." });
    const run = await pipeline.ask(["--thread", "t-audit", "--attach", join(dir, "numbers.csv"), "what is the zebra-quartz total of these numbers?"]);
    expect(run.code, run.stderr).toBe(0);
    const [line] = await waitForAudit(pipeline.worker.logs, 1);
    expect(line).toMatchObject({
      msg: "turn audit",
      platform: "local",
      channel: expect.any(String),
      thread: "t-audit",
      kind: "message",
      // Asked for by someone, not a run of a schedule (those carry scheduled: true and the schedule's id).
      scheduled: false,
      schedule: null,
      attempt: 1,
      outcome: "answered",
      code: null,
      model: "stand-in-model",
      steps: 1,
      executions: { ok: 1 },
      attachments: 1,
      bytesIn: 8,
    });
    expect(line.user).toEqual(expect.any(String));
    expect(line.requestId).toEqual(expect.any(String));
    expect(line.promptTokens).toBeGreaterThan(0);
    expect(line.completionTokens).toBeGreaterThan(0);
    expect(line.seconds).toBeGreaterThan(0);
    expect(line.execSeconds).toBeGreaterThan(0);
    expect(line.execSeconds as number).toBeLessThanOrEqual(line.seconds as number);
    expect(line).not.toHaveProperty("text");
    expect(line).not.toHaveProperty("userName");
    // Neither the question nor the file's name or content reaches any log line without LOG_CONTENT.
    expect(pipeline.worker.logs()).not.toContain("zebra-quartz");
    expect(pipeline.worker.logs()).not.toContain("numbers.csv");
  });

  test("a failed turn: its audit line has the failure's code, and the admin page's recent failures hold its request id", async () => {
    const before = auditLines(pipeline.worker.logs()).length;
    pipeline.llm.script({ status: 400, message: "this model does not exist" });
    const run = await pipeline.ask(["--thread", "t-audit-fail", "anything"]);
    expect(run.code).toBe(1);
    const lines = await waitForAudit(pipeline.worker.logs, before + 1);
    const failed = lines[before]!;
    expect(failed).toMatchObject({ outcome: "failed", code: "MODEL_UNAVAILABLE", thread: "t-audit-fail", steps: 0 });
    const recent = await new FailureLog(pipeline.redis, pipeline.keys).recent();
    expect(recent[0]).toMatchObject({ requestId: failed.requestId, code: "MODEL_UNAVAILABLE", platform: "local", attempt: 1 });
    expect(recent[0]!.thread).toContain("t-audit-fail");
    expect(recent[0]!.message.length).toBeGreaterThan(0);
    // Answered turns are not failures.
    expect(recent.map((entry) => entry.requestId)).not.toContain(lines[0]!.requestId);
  });

  test("LOG_CONTENT=true: the audit line carries the message's text and the user's name", async () => {
    await pipeline.worker.stop();
    pipeline.worker = await pipeline.startWorker({ LOG_CONTENT: "true" });
    pipeline.llm.script({ content: "Hello." });
    const run = await pipeline.ask(["--thread", "t-audit-content", "say hello to the zebra-quartz"]);
    expect(run.code, run.stderr).toBe(0);
    const [line] = await waitForAudit(pipeline.worker.logs, 1);
    expect(line).toMatchObject({ outcome: "answered", text: "say hello to the zebra-quartz", userName: expect.any(String), steps: 0 });
  });
});
