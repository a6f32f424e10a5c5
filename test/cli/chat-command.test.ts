import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { usePipeline } from "../helpers/pipeline-fixture.js";
import { runCli } from "../helpers/run-cli.js";

const pipeline = usePipeline();

describe("codebot chat", () => {
  test("a terminal conversation: /attach, a question, /files, /reset, /quit", async () => {
    const dir = await mkdtemp(join(tmpdir(), "codebot-chat-"));
    await writeFile(join(dir, "cities.csv"), "city,pop\nOslo,700\nBergen,290\n");
    pipeline.llm.script({ toolCalls: [{ name: "python", arguments: { code: "import pandas as pd\nprint(pd.read_csv('/mnt/data/cities.csv').pop.sum())" } }] }, { content: "Together they have 990 thousand people." });
    const input = [`/attach ${join(dir, "cities.csv")}`, "how many people in total?", "/files", "/reset", "/files", "/quit", ""].join("\n");
    const run = await runCli(["chat", "--thread", "chat-1", "--out", join(dir, "out")], { env: pipeline.env, input });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("will attach");
    expect(run.stdout).toContain("codebot> Together they have 990 thousand people.");
    expect(run.stdout).toMatch(/`\/mnt\/data\/cities\.csv` \(\d+ B, text\/csv\)/);
    expect(run.stdout).toContain("Started afresh");
    expect(run.stdout).toContain("No files in this thread's session yet.");
    expect(String(pipeline.llm.requests.at(-1)?.body.messages.at(-3)?.content)).toContain("/mnt/data/cities.csv");
  });
});
