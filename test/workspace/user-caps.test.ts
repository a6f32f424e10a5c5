import Docker from "dockerode";
import { describe, expect, test } from "vitest";
import { threadKey } from "../../src/core/chat-request.js";
import { answerText, finalReply, localRequest } from "../support/local-turns.js";
import { usePipeline } from "../support/pipeline-fixture.js";
import { runCli } from "../support/run-cli.js";

// The reproduction, as a new user would try it: one person asks four questions in four
// threads within two minutes, with SANDBOX_MAX_SESSIONS_PER_USER=3 and SANDBOX_EVICT_IDLE_SECONDS at
// its default (120 s, which applies only without durable workspaces).
const pipeline = usePipeline({ SANDBOX_MAX_SESSIONS_PER_USER: "3" });

const fenced = (code: string) => `\`\`\`python\n${code}\n\`\`\``;
const sessionOf = (thread: string) => threadKey(localRequest(thread, "").conversation);

async function turn(thread: string, code: string): Promise<string> {
  const request = localRequest(thread, fenced(code));
  await pipeline.queue.enqueue(request);
  return answerText((await finalReply(pipeline, request.eventId)).replies);
}

async function running(thread: string): Promise<boolean> {
  const all = await new Docker().listContainers({ filters: { label: [`codebot.namespace=${pipeline.env.SANDBOX_NAMESPACE}`] } });
  const escaped = sessionOf(thread).replace(/[^A-Za-z0-9.-]/g, (char) => `_${char.charCodeAt(0).toString(16).padStart(2, "0")}`);
  return all.some((info) => info.Names.some((name) => name.endsWith(`-s-${escaped}`)));
}

describe("one person's sessions at the per-user cap", () => {
  test("a fourth thread within two minutes is answered: the least recently used session sleeps, and resumes with its variables at its next message", async () => {
    const started = Date.now();
    for (const [i, thread] of ["q1", "q2", "q3", "q4"].entries()) {
      const answer = await turn(thread, `import pandas as pd\nasked = pd.Series([${i + 1}] * 4)\nprint('question', int(asked.sum()))`);
      expect(answer).toContain(`question ${(i + 1) * 4}`);
      expect(answer).not.toMatch(/sandbox sessions open/);
    }
    expect(Date.now() - started).toBeLessThan(120_000); // the scenario is "within two minutes", not a speed target
    expect(await running("q1")).toBe(false);
    expect(await Promise.all(["q2", "q3", "q4"].map(running))).toEqual([true, true, true]);
    const listed = JSON.parse((await runCli(["sessions", "list", "--json"], { env: pipeline.env })).stdout) as Array<{ sessionId: string; state: string }>;
    expect(listed.find((row) => row.sessionId === sessionOf("q1"))).toMatchObject({ state: "sleeping" });

    const back = await turn("q1", "print('back with', int(asked.sum()))");
    expect(back).toContain("back with 4");
    expect(back).not.toMatch(/could not be kept|were lost|sandbox sessions open/);
    expect(await running("q1")).toBe(true);
    expect(await running("q2")).toBe(false); // now the least recently used
    expect(pipeline.worker.logs()).toMatch(/"msg":"an idle session makes room for a new one"/);
  });
});
