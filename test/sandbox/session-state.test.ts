import { describe, expect, test } from "vitest";
import { useSandboxes } from "../support/sandbox-fixture.js";

const { manager } = useSandboxes();

describe("a session behaves like a notebook", () => {
  test("variables, imports and functions persist between executions", async () => {
    const first = await manager.execute("alpha", "import statistics\nvalues = [3, 1, 4, 1, 5]\ndef double(x):\n    return 2 * x");
    expect(first.status).toBe("ok");
    const second = await manager.execute("alpha", "print(statistics.median(values))\ndouble(21)");
    expect(second).toMatchObject({ status: "ok", stdout: "3\n", result: "42", stateLost: false });
  });

  test("two sessions see neither each other's variables nor files", async () => {
    await manager.execute("iso-a", "secret = 'only-in-a'\nopen('/mnt/data/a-only.txt', 'w').write('a')");
    const probe = await manager.execute("iso-b", "import os\nprint('secret' in globals(), os.listdir('/mnt/data'))");
    expect(probe.stdout).toBe("False []\n");
  });

  test("stdout, stderr and the last expression's value are kept apart", async () => {
    const result = await manager.execute("alpha", "import sys\nprint('to out')\nprint('to err', file=sys.stderr)\n{'k': [1, 2]}");
    expect(result).toMatchObject({ stdout: "to out\n", stderr: "to err\n", result: "{'k': [1, 2]}" });
  });

  test("output of subprocesses is captured too", async () => {
    const result = await manager.execute("alpha", "import subprocess\nsubprocess.run(['echo', 'from a child'])\nNone");
    expect(result.stdout).toBe("from a child\n");
    expect(result.result).toBeUndefined();
  });

  test("an exception is data: name, value and a traceback pointing at the user's line", async () => {
    const result = await manager.execute("alpha", "x = 1\n\ndef broken():\n    return {}['missing']\n\nbroken()");
    expect(result.status).toBe("error");
    expect(result.error).toMatchObject({ name: "KeyError", value: "'missing'" });
    expect(result.error?.traceback).toContain("line 4, in broken");
    expect(result.error?.traceback).toContain("return {}['missing']");
    expect(result.error?.traceback).not.toContain("kernel.py");
    const after = await manager.execute("alpha", "x + 1");
    expect(after).toMatchObject({ status: "ok", result: "2" });
  });

  test("a syntax error is reported, not run", async () => {
    const result = await manager.execute("alpha", "def f(:\n  pass");
    expect(result.status).toBe("error");
    expect(result.error?.name).toBe("SyntaxError");
  });

  test("non-ASCII output and file names survive the round trip", async () => {
    const uploaded = await manager.upload("alpha", [{ name: "données été 数据.csv", data: Buffer.from("ville,°C\nZürich,21\n", "utf8") }]);
    expect(uploaded[0]?.path).toBe("/mnt/data/données été 数据.csv");
    const result = await manager.execute(
      "alpha",
      "import pandas as pd\ndf = pd.read_csv('/mnt/data/données été 数据.csv')\nprint(df.iloc[0, 0], '✓', '数据')\nopen('/mnt/data/résumé ✓.txt', 'w').write('naïve ☕')",
    );
    expect(result.stdout).toBe("Zürich ✓ 数据\n");
    expect(result.files).toEqual([{ path: "/mnt/data/résumé ✓.txt", size: Buffer.byteLength("naïve ☕"), mime: "text/plain" }]);
    expect((await manager.download("alpha", "résumé ✓.txt")).toString("utf8")).toBe("naïve ☕");
  });

  test("a cancelled execution stops at once and keeps the session's state", async () => {
    await manager.execute("alpha", "kept = 'yes'");
    const abort = new AbortController();
    const started = Date.now();
    setTimeout(() => abort.abort(), 500);
    const result = await manager.execute("alpha", "import time\nwhile True:\n    time.sleep(0.1)", { signal: abort.signal, timeoutMs: 30_000 });
    expect(result.status).toBe("cancelled");
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(result.stateLost).toBe(false);
    expect((await manager.execute("alpha", "kept")).result).toBe("'yes'");
  });

  test("executions asked for at once run one after another, in order", async () => {
    const results = await Promise.all(
      [1, 2, 3].map((n) => manager.execute("ordered", `import time\ntime.sleep(0.${4 - n})\norder = globals().get('order', []) + [${n}]\norder`)),
    );
    expect(results.map((result) => result.result)).toEqual(["[1]", "[1, 2]", "[1, 2, 3]"]);
  });

  test("an execution id runs once: asked again (a worker took the turn over), the sandbox answers with the first result", async () => {
    const code = "open('/mnt/data/once.txt', 'a').write('x')\nprint('ran')";
    const first = await manager.execute("once", code, { executionId: "turn-1#1" });
    const again = await manager.execute("once", code, { executionId: "turn-1#1" });
    expect(first).toMatchObject({ status: "ok", stdout: "ran\n" });
    expect(again).toMatchObject({ status: "ok", stdout: "ran\n" });
    expect(again.notes.join(" ")).toMatch(/had already run .* it was not run again/);
    expect((await manager.execute("once", "open('/mnt/data/once.txt').read()")).result).toBe("'x'");
    const next = await manager.execute("once", code, { executionId: "turn-1#2" });
    expect(next.notes).toEqual([]);
    expect((await manager.execute("once", "open('/mnt/data/once.txt').read()")).result).toBe("'xx'");
  });
});
