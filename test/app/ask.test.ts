import { mkdtemp, readFile, readdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { usePipeline } from "../support/pipeline-fixture.js";
import { freePort } from "../support/redis-server.js";
import { runCli } from "../support/run-cli.js";

const pipeline = usePipeline();
let dir: string;

type Body = { messages: Array<{ role: string; content?: unknown; tool_call_id?: string }> };

/** The text of the newest tool result the worker sent the model. */
function lastToolResult(body: Body): string {
  const tool = [...body.messages].reverse().find((message) => message.role === "tool");
  return typeof tool?.content === "string" ? tool.content : "";
}

const python = (code: string) => ({ toolCalls: [{ name: "python", arguments: { code } }] });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "codebot-ask-"));
  await writeFile(join(dir, "orders (Q3).csv"), "region,order_value\nnorth,10\nnorth,30\nsouth,5\nsouth,7\nsouth,100\n");
});

describe("codebot ask, through Redis and a worker", () => {
  test("an attached CSV is analysed, the answer quotes the tool's real output, the chart comes back", async () => {
    pipeline.llm.script(
      python(
        "import pandas as pd\nimport matplotlib.pyplot as plt\ndf = pd.read_csv('/mnt/data/orders (Q3).csv')\nmedians = df.groupby('region').order_value.median()\nmedians.plot.bar()\nplt.show()\nprint(medians.to_dict())",
      ),
      (body: Body) => ({ content: `Median order value per region: ${lastToolResult(body).match(/\{.*\}/)?.[0]}` }),
    );
    const out = join(dir, "out1");
    const run = await pipeline.ask(["--thread", "t-csv", "--out", out, "--attach", join(dir, "orders (Q3).csv"), "what's the median order value per region? plot it"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("Median order value per region: {'north': 20.0, 'south': 7.0}");
    const png = await readFile(join(out, "chart-1.png"));
    expect(png.subarray(0, 8).toString("hex")).toBe("89504e470d0a1a0a");
    expect(run.stderr).toMatch(/Running code \(step 1\)/);
    const first = pipeline.llm.requests[0]!.body as Body;
    expect(JSON.stringify(first.messages)).toContain("/mnt/data/orders (Q3).csv");
  });

  test("a follow-up in the same thread uses a variable and the conversation from the previous turn", async () => {
    const before = pipeline.llm.requests.length;
    pipeline.llm.script(python("print(int(medians.sum()))"), (body: Body) => ({ content: `Sum of medians: ${lastToolResult(body).match(/stdout:\n(\d+)/)?.[1]}` }));
    const run = await pipeline.ask(["--thread", "t-csv", "--out", join(dir, "out2"), "and the sum of those medians?"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("Sum of medians: 27");
    const history = JSON.stringify((pipeline.llm.requests[before]!.body as Body).messages);
    expect(history).toContain("what's the median order value per region?");
    expect(history).toContain("Median order value per region");
  });

  test("a code error is fixed by the model's next step", async () => {
    pipeline.llm.script(
      python("print(undefined_name)"),
      (body: Body) => (lastToolResult(body).includes("NameError") ? python("print('fixed', 6 * 7)") : { content: "the error never reached me" }),
      (body: Body) => ({ content: `After fixing: ${lastToolResult(body).match(/fixed \d+/)?.[0]}` }),
    );
    const run = await pipeline.ask(["--out", join(dir, "out3"), "compute 6*7"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("After fixing: fixed 42");
  });

  test("tokens used are recorded per user and per thread, and codebot usage shows them", async () => {
    const users = JSON.parse((await runCli(["usage", "--json"], { env: pipeline.env })).stdout) as Array<{ id: string; prompt_tokens: number; requests: number }>;
    expect(users).toHaveLength(1);
    expect(users[0]?.id).toMatch(/^local:/);
    expect(users[0]?.prompt_tokens).toBeGreaterThan(0);
    expect(users[0]?.requests).toBe(3);
    const threads = JSON.parse((await runCli(["usage", "threads", "--json"], { env: pipeline.env })).stdout) as Array<{ id: string }>;
    expect(threads.map((thread) => thread.id)).toContain("local:-:cli:t-csv");
  });

  test("a message that is only a python block runs as written, with no model", async () => {
    const before = pipeline.llm.requests.length;
    const run = await pipeline.ask(["--out", join(dir, "out4"), "```python\nopen('/mnt/data/report.txt', 'w').write('plain')\nprint('ran as written')\n```"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("ran as written");
    expect(await readFile(join(dir, "out4", "report.txt"), "utf8")).toBe("plain");
    expect(pipeline.llm.requests.length).toBe(before);
  });

  test("the model answering 429 first is retried with backoff and the turn succeeds", async () => {
    const before = pipeline.llm.requests.length;
    pipeline.llm.script({ status: 429, message: "Rate limit reached", retryAfterSeconds: 0 }, { content: "answered after a 429" });
    const run = await pipeline.ask(["hello?"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("answered after a 429");
    expect(pipeline.llm.requests.length - before).toBe(2);
  });

  test("a model that keeps failing ends with a plain message and exit 1", async () => {
    pipeline.llm.script(...Array.from({ length: 4 }, () => ({ status: 503, message: "overloaded", retryAfterSeconds: 0 })));
    const run = await pipeline.ask(["hello?"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("The model is unavailable (HTTP 503, after 4 tries)");
  });

  test("an attachment over the size cap gets a clear refusal and nothing runs", async () => {
    const big = join(dir, "big.csv");
    await writeFile(big, Buffer.alloc(2 * 1024 * 1024, "a"));
    const run = await pipeline.ask(["--attach", big, "analyse this"], { SANDBOX_MAX_FILE_MB: "1" });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/"big.csv" is 2.0 MB, over the 1 MB limit/);
  });

  test("files saved by the worker keep safe names in the output folder", async () => {
    const out = join(dir, "out5");
    await pipeline.ask(["--out", out, "```python\nopen('/mnt/data/../data/ünïcode name.txt', 'w').write('x')\n```"]);
    expect(await readdir(out)).toEqual(["ünïcode name.txt"]);
  });

  test("behind eight busy turns, ask says it is queued (not that no worker runs) and is answered", async () => {
    const busy = Array.from({ length: 8 }, (_, i) =>
      pipeline.queue.enqueue({
        eventId: `local:busy-${i}-${Date.now()}`,
        user: { id: "U1", name: "Ada" },
        conversation: { platform: "local", channelId: "cli", threadId: `busy-${i}` },
        text: "```python\nimport time\ntime.sleep(3)\n```",
        receivedAt: Date.now(),
      }),
    );
    await Promise.all(busy);
    const run = await pipeline.ask(["--wait", "1", "```python\nprint('answered after the queue')\n```"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("answered after the queue");
    expect(run.stderr).toMatch(/Queued: the workers are busy, \d+ requests? (is|are) ahead of this one/);
    expect(run.stderr).not.toMatch(/No worker picked/);
  });

  test("Redis out of reach: one clear line and exit 2, no stack traces", async () => {
    const port = await freePort();
    const run = await pipeline.ask(["hello"], { REDIS_URL: `redis://127.0.0.1:${port}` });
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe(`codebot: Cannot reach Redis at redis://127.0.0.1:${port}: is it running (REDIS_URL)?`);
  });

  test("a worker with no model set up: a question fails at once saying what to set; a code block still runs", async () => {
    await pipeline.worker.stop();
    pipeline.worker = await pipeline.startWorker({ OPENAI_API_KEY: "", OPENAI_BASE_URL: "" });
    const started = Date.now();
    const question = await pipeline.ask(["what is 2 + 2?"]);
    expect(question.code).toBe(1);
    expect(question.stdout + question.stderr).toMatch(/No model is set up for codebot yet: .*OPENAI_API_KEY \(or OPENAI_BASE_URL/);
    expect(Date.now() - started).toBeLessThan(15_000);
    const code = await pipeline.ask(["```python\nprint(2 + 2)\n```"]);
    expect(code.code, code.stderr).toBe(0);
    expect(code.stdout).toContain("4");
  });
});
