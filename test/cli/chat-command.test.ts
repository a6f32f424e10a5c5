import { spawn } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { usePipeline } from "../support/pipeline-fixture.js";
import { CLI, runCli } from "../support/run-cli.js";

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

  test("a fenced block, pasted or typed line by line, is sent whole when its fence closes: one turn, run as written", async () => {
    const dir = await mkdtemp(join(tmpdir(), "codebot-chat-"));
    const asked = pipeline.llm.requests.length;
    const block = ["```python", "total = 0", "for i in range(4):", "    total += i", "", "print('total', total)", "```"];
    const run = await runCli(["chat", "--thread", "chat-fenced", "--out", dir], { env: pipeline.env, input: [...block, "/quit", ""].join("\n") });
    expect(run.code, run.stderr).toBe(0);
    // One turn that ran the block as written (its indentation kept, or the loop would not run); its output is the one answer.
    expect(run.stdout.match(/Running your code…/g)).toHaveLength(1);
    expect(run.stdout.match(/^codebot> /gm)).toHaveLength(1);
    expect(run.stdout).toContain("codebot> ```\ntotal 6\n```");
    expect(run.stdout).not.toMatch(/codebot: |you> |\.\.\. /); // no error; no prompts when the input is piped
    expect(pipeline.llm.requests.length).toBe(asked); // no model
    // The thread remembers one turn: the whole block, blank line and all.
    const turns = await pipeline.redis.lrange(pipeline.keys.thread("local:-:cli:chat-fenced", "turns"), 0, -1);
    expect(turns).toHaveLength(1);
    expect(JSON.parse(turns[0]!)[0].content).toContain(block.slice(1, -1).join("\n"));
  });

  test("a block never closed is not sent; /attach of a missing file and an unknown /command are refused on the spot", async () => {
    const dir = await mkdtemp(join(tmpdir(), "codebot-chat-"));
    const asked = pipeline.llm.requests.length;
    const attach = await runCli(["chat", "--thread", "chat-refusals", "--out", dir], { env: pipeline.env, input: [`/attach ${join(dir, "nope.csv")}`, "/attach", "/frobnicate now", "/quit", ""].join("\n") });
    expect(attach.code, attach.stderr).toBe(0);
    expect(attach.stdout).toContain(`codebot: Cannot read ${join(dir, "nope.csv")}: no such file.`);
    expect(attach.stdout).toContain("codebot: which file? /attach PATH");
    expect(attach.stdout).toContain("codebot: no command /frobnicate.");
    expect(attach.stdout).not.toContain("will attach");
    const unclosed = await runCli(["chat", "--thread", "chat-unclosed", "--out", dir], { env: pipeline.env, input: ["```python", "print('never sent')", "/quit", ""].join("\n") });
    expect(unclosed.code).toBe(2);
    expect(unclosed.stderr).toBe("codebot: the code block was never closed with ```, so it was not sent.\n");
    expect(unclosed.stdout).not.toContain("never sent\n  ");
    expect(unclosed.stdout).not.toContain("codebot> ");
    expect(pipeline.llm.requests.length).toBe(asked);
  });

  test("at a terminal: `... ` while a block is open, the block runs when it closes, Ctrl-C drops a block being typed (and then leaves)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "codebot-chat-"));
    // util-linux's `script` gives the chat a real terminal (a pseudo-terminal), as a person has.
    const child = spawn("script", ["-qfec", `${process.execPath} ${CLI} chat --thread chat-tty --out ${dir}`, "/dev/null"], { env: { ...process.env, ...pipeline.env }, stdio: ["pipe", "pipe", "pipe"] });
    let screen = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (screen += chunk));
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    const shown = async (what: RegExp | (() => boolean)) => {
      const seen = typeof what === "function" ? what : () => what.test(screen);
      for (const started = Date.now(); !seen(); await new Promise((resolve) => setTimeout(resolve, 50))) {
        if (Date.now() - started > 30_000) throw new Error(`never shown: ${what}\n${screen}`);
      }
    };
    const continuations = () => screen.split("... ").length - 1;
    const type = (text: string) => void child.stdin.write(text);
    // One line at a time, each after its prompt (the terminal echoes lines typed ahead out of order).
    try {
      await shown(/you> /);
      type("```python\r");
      await shown(() => continuations() === 1);
      type("print(6 * 7)\r");
      await shown(() => continuations() === 2);
      type("```\r");
      await shown(/codebot> ```\r?\n42/);
      const before = continuations();
      type("```\r");
      await shown(() => continuations() > before);
      type("print('dropped')\r");
      await shown(() => continuations() > before + 1);
      type("\u0003");
      await shown(/\(code block dropped\)/);
      await shown(/you> [^\n]*$/);
      type("\u0003"); // with no block open, Ctrl-C leaves
      expect(await exited).toBe(130);
    } finally {
      child.kill("SIGKILL");
    }
    expect(screen.match(/^codebot> /gm)).toHaveLength(1);
    expect(screen).not.toContain("codebot: ");
  });

  test("the schedule words in the terminal: schedule, schedules, unschedule (in chat, and through ask)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "codebot-chat-"));
    const input = ["schedule every monday at 09:00: weekly signups", "schedules", "/quit", ""].join("\n");
    const run = await runCli(["chat", "--thread", "chat-schedules", "--out", dir], { env: pipeline.env, input });
    expect(run.code, run.stderr).toBe(0);
    const id = /codebot> Scheduled `([a-z2-9]{6})`: every Monday at 09:00 \(`0 9 \* \* 1`, times in UTC\)\./.exec(run.stdout)?.[1];
    expect(id, run.stdout).toBeDefined();
    expect(run.stdout).toContain("codebot export --thread chat-schedules");
    expect(run.stdout).toMatch(new RegExp(`This thread's schedules \\(1\\):\\n- \`${id}\` every Monday at 09:00`));
    const removed = await runCli(["ask", "--thread", "chat-schedules", "unschedule all"], { env: pipeline.env });
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toContain(`Removed 1 schedule of this thread (\`${id}\`)`);
    const bad = await runCli(["ask", "--thread", "chat-schedules", "schedule every 5 minutes: report"], { env: pipeline.env });
    expect(bad.stdout).toContain("Not scheduled: every 5 minutes runs 5 minutes apart at its closest, and schedules here run at most every 15 minutes.");
  });
});

