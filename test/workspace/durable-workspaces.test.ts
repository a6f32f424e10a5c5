import Docker from "dockerode";
import { describe, expect, test } from "vitest";
import { threadKey } from "../../src/core/chat-request.js";
import { answerText, finalReply, localRequest } from "../support/local-turns.js";
import { usePipeline } from "../support/pipeline-fixture.js";
import { runCli } from "../support/run-cli.js";

/** Idle sessions sleep after 10 s (the smallest timeout); the worker checks every second. */
const pipeline = usePipeline({ SANDBOX_IDLE_TIMEOUT_SECONDS: "10", WORKSPACE_MAX_MB: "8", WORKSPACE_MAX_STATE_MB: "16" });

const fenced = (code: string) => `\`\`\`python\n${code}\n\`\`\``;

async function turn(thread: string, code: string, timeoutMs?: number): Promise<string> {
  const request = localRequest(thread, fenced(code));
  await pipeline.queue.enqueue(request);
  try {
    return answerText((await finalReply(pipeline, request.eventId, timeoutMs)).replies);
  } catch (error) {
    // A turn that never ends: what the worker said about this thread, for whoever reads the failure.
    const said = pipeline.worker.logs().split("\n").filter((line) => line.includes(thread) || /"level":[56]0/.test(line));
    throw new Error(`${(error as Error).message}\nworker log (thread ${thread}):\n${said.slice(-40).join("\n")}`);
  }
}

const sessionOf = (thread: string) => threadKey(localRequest(thread, "").conversation);

async function sessionContainers(thread: string): Promise<Docker.ContainerInfo[]> {
  const all = await new Docker().listContainers({ all: true, filters: { label: [`codebot.namespace=${pipeline.env.SANDBOX_NAMESPACE}`] } });
  const escaped = sessionOf(thread).replace(/[^A-Za-z0-9.-]/g, (char) => `_${char.charCodeAt(0).toString(16).padStart(2, "0")}`);
  return all.filter((info) => info.Names.some((name) => name.endsWith(`-s-${escaped}`)));
}

const sessions = (...args: string[]) => runCli(["sessions", ...args], { env: pipeline.env });

describe("durable thread workspaces", () => {
  test("variables and files survive an idle session going to sleep and coming back", async () => {
    const setup = [
      "import pandas as pd, numpy as np, matplotlib.pyplot as plt",
      "from sklearn.linear_model import LinearRegression",
      "df = pd.DataFrame({'x': np.arange(1000), 'y': np.arange(1000) * 2.0})",
      "model = LinearRegression().fit(df[['x']], df['y'])",
      "fig, ax = plt.subplots(); ax.plot(df.x, df.y); ax.set_title('kept')",
      "def double(v): return v * 2",
      "handle = open('/mnt/data/notes.txt', 'w'); handle.write('hello'); handle.flush()",
      "gen = (i for i in range(3))",
      "df.to_csv('/mnt/data/data.csv', index=False)",
      "print('ready')",
    ].join("\n");
    expect(await turn("sleepy", setup)).toContain("ready");
    // Idle past its timeout: the worker puts it to sleep; its container goes and its slot is freed.
    const deadline = Date.now() + 40_000;
    while ((await sessionContainers("sleepy")).length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await sessionContainers("sleepy")).toHaveLength(0);
    expect(pipeline.worker.logs()).toMatch(/"msg":"idle session put to sleep"/);
    const listed = await sessions("list", "--json");
    const asleep = (JSON.parse(listed.stdout) as Array<{ sessionId: string; state: string; files: number }>).find((row) => row.sessionId === sessionOf("sleepy"));
    expect(asleep).toMatchObject({ state: "sleeping", files: 2 });

    const check = [
      "import io",
      "buffer = io.BytesIO(); fig.savefig(buffer, format='png')",
      "print(len(df), round(float(model.predict(pd.DataFrame({'x': [10]}))[0]), 6), double(21), buffer.tell() > 1000)",
      "print(open('/mnt/data/notes.txt').read(), len(pd.read_csv('/mnt/data/data.csv')))",
      "print('gen' in globals(), 'handle' in globals(), np.pi > 3)",
    ].join("\n");
    const back = await turn("sleepy", check);
    expect(back).toContain("1000 20.0 42 True");
    expect(back).toContain("hello 1000");
    expect(back).toContain("False False True");
    // What could not be kept is named, once, in plain words.
    expect(back).toMatch(/except .*gen \(.*handle \(|except .*handle \(.*gen \(/s);
    expect(back).not.toMatch(/earlier Python session had ended/);
  });

  test("a session's container removed by force: the files of finished executions are back, and the thread is told its variables are not", async () => {
    expect(await turn("crashy", "x = 41\nopen('/mnt/data/kept.txt', 'w').write('from before')\nprint('written')")).toContain("written");
    for (const info of await sessionContainers("crashy")) await new Docker().getContainer(info.Id).remove({ force: true, v: true });
    const after = await turn("crashy", "print(open('/mnt/data/kept.txt').read())\nprint('x' in globals())");
    expect(after).toContain("from before");
    expect(after).toContain("False");
    expect(after).toMatch(/ended unexpectedly: its file is back as of \d\d:\d\d UTC, but variables from before then were lost/);
  });

  test("a worker stopped between two turns puts its sessions to sleep, and the next worker resumes them", async () => {
    expect(await turn("handover", "total = 123\nprint('set')")).toContain("set");
    expect(await pipeline.worker.stop()).toBe(0);
    expect(await sessionContainers("handover")).toHaveLength(0);
    pipeline.worker = await pipeline.startWorker();
    expect(await turn("handover", "print(total + 1)")).toContain("124");
  });

  test("`codebot sessions hibernate` puts one to sleep now; /reset deletes the workspace and its saved state for good", async () => {
    expect(await turn("resettable", "secret = 'v'\nopen('/mnt/data/s.txt', 'w').write('s')\nprint('ok')")).toContain("ok");
    const slept = await sessions("hibernate", sessionOf("resettable"));
    expect(slept.stdout).toContain("is asleep");
    expect(await sessionContainers("resettable")).toHaveLength(0);
    const reset = localRequest("resettable", "");
    await pipeline.queue.enqueue({ ...reset, kind: "reset" });
    expect(answerText((await finalReply(pipeline, reset.eventId)).replies)).toContain("Started afresh");
    const listed = JSON.parse((await sessions("list", "--json")).stdout) as Array<{ sessionId: string }>;
    expect(listed.some((row) => row.sessionId === sessionOf("resettable"))).toBe(false);
    const after = await turn("resettable", "import os\nprint('secret' in globals(), os.path.exists('/mnt/data/s.txt'))");
    expect(after).toContain("False False");
  });

  test("two threads never see each other's saved files, whatever their ids look like", async () => {
    expect(await turn("owner/../x", "open('/mnt/data/private.txt', 'w').write('mine')\nprint('ok')")).toContain("ok");
    await sessions("hibernate", sessionOf("owner/../x"));
    for (const other of ["owner", "x", "owner/..", "../x", "owner%2F..%2Fx"]) {
      const seen = await turn(other, "import os\nprint(sorted(os.listdir('/mnt/data')))");
      expect(seen, other).not.toContain("private.txt");
    }
    expect(await turn("owner/../x", "print(open('/mnt/data/private.txt').read())")).toContain("mine");
  });

  test("a workspace at its cap refuses new files with a clear message, and the code still runs", async () => {
    const text = await turn("full", "open('/mnt/data/big.bin', 'wb').write(b'x' * (9 * 1024 * 1024))\nprint('wrote')");
    expect(text).toContain("wrote");
    expect(text).toMatch(/saved files are limited to 8\.0 MB.*"big\.bin".*could not be saved/s);
  });

  test("variables over the state cap are not kept: the resume says which weighed most, and the files are back", async () => {
    expect(await turn("heavy", "import numpy as np\nhuge = np.ones(4 * 1024 * 1024)\nsmall = 1\nopen('/mnt/data/f.txt','w').write('f')\nprint('ok')")).toContain("ok");
    expect((await sessions("hibernate", sessionOf("heavy"))).stdout).toContain("is asleep");
    const back = await turn("heavy", "print('huge' in globals(), open('/mnt/data/f.txt').read())");
    expect(back).toContain("False f");
    expect(back).toMatch(/variables could not be kept \(.*largest: huge/s);
  });
});
