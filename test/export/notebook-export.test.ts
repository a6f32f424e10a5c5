import { spawn } from "node:child_process";
import { mkdtemp, readFile, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import type { LocalReply } from "../../src/platforms/local/local-replies.js";
import { localRequest, repliesOf } from "../support/local-turns.js";
import { usePipeline } from "../support/pipeline-fixture.js";
import { runCli } from "../support/run-cli.js";
import type { ChatBody } from "../support/stand-ins/chat-completions-stand-in.js";
import { DirectoryStore } from "../../src/workspace/directory-store.js";
import { threadWorkspaceId } from "../../src/workspace/workspace-id.js";
import { nbformatValidate } from "./nbformat-check.js";

const pipeline = usePipeline();
const THREAD = "q3-analysis";
let out: string;

type Answer = Extract<LocalReply, { type: "answer" }>;
type AnyOutput = { output_type: string; name?: string; text?: string; data?: Record<string, string>; ename?: string; evalue?: string; traceback?: string[]; execution_count?: number };
type AnyCell = { cell_type: string; source: string; execution_count?: number; outputs?: AnyOutput[] };

const python = (code: string) => ({ toolCalls: [{ name: "python", arguments: { code } }] });
const lastToolResult = (body: ChatBody) => {
  const tool = [...body.messages].reverse().find((message) => message.role === "tool");
  return typeof tool?.content === "string" ? tool.content : "";
};

/** Sends a request of the thread through the queue and a real worker; returns its answer. */
async function turn(text: string, kind: "message" | "export" | "files" = "message", threadId = THREAD): Promise<Answer> {
  const request = { ...localRequest(threadId, text), kind };
  await pipeline.queue.enqueue(request);
  for (const started = Date.now(); Date.now() - started < 90_000; await new Promise((resolve) => setTimeout(resolve, 100))) {
    const replies = await repliesOf(pipeline, request.eventId);
    const answer = replies.find((reply): reply is Answer => reply.type === "answer");
    if (answer) return answer;
    if (replies.some((reply) => reply.type === "fail")) throw new Error(`failed: ${JSON.stringify(replies)}`);
  }
  throw new Error(`no answer to ${request.eventId}`);
}

/** The entries of a zip as Python's zipfile reads them (in the sandbox image, no network): name, Unix mode, content. */
function unzipEntries(zip: Buffer): Promise<Array<{ name: string; mode: number; text: string }>> {
  const script = `
import io, json, sys, zipfile
z = zipfile.ZipFile(io.BytesIO(sys.stdin.buffer.read()))
assert z.testzip() is None
print(json.dumps([{"name": i.filename, "mode": i.external_attr >> 16, "text": z.read(i).decode("utf-8", "replace")} for i in z.infolist()]))
`;
  return new Promise((resolve, reject) => {
    const child = spawn("docker", ["run", "--rm", "-i", "--network", "none", "--entrypoint", "python3", "codebot-sandbox:latest", "-c", script]);
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("close", (code) => (code === 0 ? resolve(JSON.parse(stdout)) : reject(new Error(stderr))));
    child.stdin.end(zip);
  });
}

beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), "codebot-export-"));
});

describe("/export: the thread as a Jupyter notebook", () => {
  test("before any turn, there is nothing to export (said plainly, no file)", async () => {
    const answer = await turn("", "export", "empty-thread");
    expect(answer.markdown).toMatch(/^Nothing to export yet: /);
    expect(answer.files).toEqual([]);
    const cli = await runCli(["export", "--thread", "empty-thread", "--out", out], { env: pipeline.env });
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain("Nothing to export yet");
    expect(cli.stdout).toBe("");
  });

  test("two turns (a chart and a DataFrame, then an error) become a valid notebook: one code cell per execution, with its outputs", async () => {
    pipeline.llm.script(
      python(
        "import pandas as pd\nimport matplotlib.pyplot as plt\ndf = pd.DataFrame({'region': ['north', 'south'], 'total': [40, 112]})\ndf.plot.bar(x='region', y='total')\nplt.show()\nprint('rows', len(df))\ndf",
      ),
      (body: ChatBody) => ({ content: `Totals per region, from ${lastToolResult(body).includes("rows 2") ? "both rows" : "?"}.` }),
    );
    const first = await turn("total per region? plot it");
    expect(first.markdown).toContain("Totals per region, from both rows.");
    pipeline.llm.script(python("print('looking up')\ndf['missing']"), { content: "There is no column named `missing`." });
    const second = await turn("and the missing column?");
    expect(second.markdown).toContain("There is no column named");

    // The chart is kept in the thread's workspace in the store, not in Redis.
    const threadKey = `local:-:cli:${THREAD}`;
    const entries = await pipeline.redis.lrange(pipeline.keys.thread(threadKey, "export"), 0, -1);
    expect(entries).toHaveLength(2);
    for (const entry of entries) expect(entry).not.toContain("iVBORw0KGgo");
    const stored = await new DirectoryStore(pipeline.env.WORKSPACE_STORE!).list(threadWorkspaceId(pipeline.env.SANDBOX_NAMESPACE!, threadKey));
    const charts = stored.filter((object) => object.name.startsWith("export/images/"));
    expect(charts).toHaveLength(1);
    expect(charts[0]!.name).toMatch(/\.png$/);

    const answer = await turn("", "export");
    expect(answer.files).toHaveLength(1);
    const file = answer.files[0]!;
    expect(file.name).toMatch(/^codebot-q3-analysis-\d{4}-\d{2}-\d{2}\.ipynb$/);
    expect(answer.markdown).toContain("2 turns, 2 code cells");
    const data = Buffer.from(file.base64, "base64");
    const reading = await nbformatValidate(data);
    expect(reading.nbformat).toEqual([4, 5]);
    expect(reading.cells.map(([type]) => type)).toEqual(["markdown", "markdown", "code", "markdown", "markdown", "code", "markdown"]);

    const notebook = JSON.parse(data.toString("utf8")) as { metadata: { kernelspec: { name: string }; language_info: { name: string } }; cells: AnyCell[] };
    expect(notebook.metadata.kernelspec.name).toBe("python3");
    expect(notebook.metadata.language_info.name).toBe("python");
    const [, ask1, code1, answer1, ask2, code2, answer2] = notebook.cells;
    expect(ask1?.source).toBe("**Ada**: total per region? plot it");
    expect(code1?.source).toContain("df.plot.bar(x='region', y='total')");
    expect(code1?.execution_count).toBe(1);
    const outputs1 = code1?.outputs ?? [];
    expect(outputs1.find((output) => output.name === "stdout")?.text).toBe("rows 2\n");
    const png = outputs1.find((output) => output.output_type === "display_data")?.data?.["image/png"];
    expect(Buffer.from(png ?? "", "base64").subarray(0, 8).toString("hex")).toBe("89504e470d0a1a0a");
    // Fetched back from the store, byte for byte.
    expect(Buffer.from(png ?? "", "base64").length).toBe(charts[0]!.size);
    const value = outputs1.find((output) => output.output_type === "execute_result");
    expect(value?.execution_count).toBe(1);
    expect(value?.data?.["text/plain"]).toMatch(/region\s+total\n0\s+north\s+40\n1\s+south\s+112/);
    expect(answer1?.source).toBe("Totals per region, from both rows.");
    expect(ask2?.source).toBe("**Ada**: and the missing column?");
    expect(code2?.execution_count).toBe(2);
    const outputs2 = code2?.outputs ?? [];
    expect(outputs2[0]).toMatchObject({ output_type: "stream", name: "stdout", text: "looking up\n" });
    const error = outputs2.find((output) => output.output_type === "error");
    expect(error?.ename).toBe("KeyError");
    expect(error?.evalue).toContain("missing");
    expect(error?.traceback?.length).toBeGreaterThan(1);
    expect(answer2?.source).toContain("There is no column named `missing`.");
  });

  test("`codebot export --thread ID --out DIR` writes the notebook; a second export never overwrites the first", async () => {
    const firstRun = await runCli(["export", "--thread", THREAD, "--out", out], { env: pipeline.env });
    expect(firstRun.code, firstRun.stderr).toBe(0);
    const [firstPath] = firstRun.stdout.trim().split("\n");
    expect(firstPath).toMatch(new RegExp(`^${out}/codebot-q3-analysis-\\d{4}-\\d{2}-\\d{2}\\.ipynb$`));
    const written = await readFile(firstPath!);
    expect((await nbformatValidate(written)).cells.filter(([type]) => type === "code")).toHaveLength(2);
    const secondRun = await runCli(["export", "--thread", THREAD, "--out", out], { env: pipeline.env });
    expect(secondRun.code, secondRun.stderr).toBe(0);
    const secondPath = secondRun.stdout.trim();
    expect(secondPath).toBe(firstPath!.replace(/\.ipynb$/, " (2).ipynb"));
    expect((await readFile(firstPath!)).equals(written)).toBe(true);
    expect((await readdir(out)).filter((name) => name.endsWith(".ipynb"))).toHaveLength(2);
  });
});

describe("recording a turn for export", () => {
  test("a record that can't be written never fails the turn", async () => {
    await pipeline.redis.set(pipeline.keys.thread("local:-:cli:broken-log", "export"), "not a list");
    const answer = await turn("```python\nprint('still answered')\n```", "message", "broken-log");
    expect(answer.markdown).toContain("still answered");
    expect(pipeline.worker.logs()).toContain("could not record the turn for export");
  });
});

describe("/export in the terminal chat", () => {
  test("`/export zip` saves the thread's notebook and its files' zip into --out", async () => {
    const dir = await mkdtemp(join(tmpdir(), "codebot-chat-export-"));
    pipeline.llm.script(python("open('/mnt/data/out.txt', 'w').write('from chat')\nprint('wrote it')"), { content: "Wrote out.txt." });
    const input = ["write a file please", "/export zip", "/quit", ""].join("\n");
    const run = await runCli(["chat", "--thread", "chat-export", "--out", dir], { env: pipeline.env, input });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("This thread as a Jupyter notebook");
    const saved = (await readdir(dir)).filter((name) => name.startsWith("codebot-")).sort();
    expect(saved.map((name) => name.replace(/\d{4}-\d{2}-\d{2}/, "DATE"))).toEqual(["codebot-chat-export-DATE-files.zip", "codebot-chat-export-DATE.ipynb"]);
    const reading = await nbformatValidate(await readFile(join(dir, saved[1]!)));
    expect(reading.cells).toEqual([["markdown", []], ["markdown", []], ["code", ["stream"]], ["markdown", []]]);
    expect((await unzipEntries(await readFile(join(dir, saved[0]!)))).map((entry) => [entry.name, entry.text])).toEqual([["out.txt", "from chat"]]);
  });
});

describe("/files zip: the session's files as one zip", () => {
  test("the zip holds exactly the session's regular files; a hostile name or a link to /etc/passwd doesn't escape", async () => {
    const made = await turn(
      "```python\nimport os\nos.makedirs('/mnt/data/sub', exist_ok=True)\nopen('/mnt/data/report.csv', 'w').write('a,b\\n1,2\\n')\nopen('/mnt/data/sub/notes.txt', 'w').write('hello')\nopen('/mnt/data/..\\\\..\\\\evil.txt', 'w').write('evil')\nos.symlink('/etc/passwd', '/mnt/data/passwd-link')\nos.symlink('/etc', '/mnt/data/etc-link')\nprint('made')\n```",
    );
    expect(made.markdown).toContain("made");
    const listing = await turn("", "files");
    expect(listing.markdown).toContain("Files in this thread's session (3)");

    const zipped = await turn("zip", "files");
    expect(zipped.files).toHaveLength(1);
    expect(zipped.files[0]?.name).toMatch(/^codebot-q3-analysis-\d{4}-\d{2}-\d{2}-files\.zip$/);
    expect(zipped.markdown).toContain("(3 files)");
    const entries = await unzipEntries(Buffer.from(zipped.files[0]!.base64, "base64"));
    expect(entries.map((entry) => entry.name).sort()).toEqual(["evil.txt", "report.csv", "sub/notes.txt"]);
    expect(Object.fromEntries(entries.map((entry) => [entry.name, entry.text]))).toEqual({ "evil.txt": "evil", "report.csv": "a,b\n1,2\n", "sub/notes.txt": "hello" });
    for (const entry of entries) expect(entry.mode & 0o170000).toBe(0o100000); // regular files, no symlink entries
    expect(entries.some((entry) => entry.text.includes("root:"))).toBe(false);

    // /export zip: the notebook (now three turns, the last run as written) and the zip together.
    const both = await turn("zip", "export");
    expect(both.files.map((file) => file.name.replace(/\d{4}-\d{2}-\d{2}/, "DATE"))).toEqual(["codebot-q3-analysis-DATE.ipynb", "codebot-q3-analysis-DATE-files.zip"]);
    const reading = await nbformatValidate(Buffer.from(both.files[0]!.base64, "base64"));
    expect(reading.cells.filter(([type]) => type === "code")).toHaveLength(3);
    expect(reading.cells.at(-1)).toEqual(["code", ["stream"]]);
  });
});
