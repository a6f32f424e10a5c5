import { describe, expect, test } from "vitest";
import { SandboxError } from "../../src/sandbox/sandbox-error.js";
import { sandboxRuntimes } from "../support/runtimes.js";
import { useSandboxes } from "../support/sandbox-fixture.js";
import { loadState, saveState } from "../support/state-snapshot.js";

// Durable workspaces: a thread's variables are pickled inside its sandbox, carried by the host as
// opaque bytes, and loaded inside the thread's next sandbox, never unpickled on the host.

const MB = 1024 * 1024;

const SETUP = [
  "import io, socket",
  "import numpy as np",
  "import pandas as pd",
  "import matplotlib.pyplot as plt",
  "from sklearn.linear_model import LinearRegression",
  "df = pd.DataFrame({'x': np.arange(50), 'label': ['row %d' % i for i in range(50)]})",
  "df['y'] = df['x'] * 2.0 + 1",
  "model = LinearRegression().fit(df[['x']], df['y'])",
  "fig, ax = plt.subplots()",
  "ax.plot(df['x'], df['y'])",
  "offset = 1",
  "def double(x):",
  "    return 2 * x + offset",
  "square = lambda v: v * v",
  "class Point:",
  "    def __init__(self, x, y):",
  "        self.x, self.y = x, y",
  "    def norm(self):",
  "        return (self.x ** 2 + self.y ** 2) ** 0.5",
  "class Point3(Point):",
  "    def __init__(self, x, y, z):",
  "        super().__init__(x, y)",
  "        self.z = z",
  "p = Point(3, 4)",
  "points = [p, Point3(6, 8, 1)]",
  "handle = open('/mnt/data/notes.txt', 'w')",
  "gen = (i for i in range(3))",
  "sock = socket.socket()",
  "None",
].join("\n");

const CHECK = [
  "expected = pd.DataFrame({'x': np.arange(50), 'label': ['row %d' % i for i in range(50)]})",
  "expected['y'] = expected['x'] * 2.0 + 1",
  "print(df.equals(expected))",
  "print(round(float(model.predict(pd.DataFrame({'x': [20]}))[0]), 6))",
  "fig.savefig('/mnt/data/restored.png')",
  "print(open('/mnt/data/restored.png', 'rb').read(8) == b'\\x89PNG\\r\\n\\x1a\\n')",
  "print(double(20), square(7), p.norm(), isinstance(p, Point), isinstance(points[1], Point), points[1].norm())",
  "offset = 100",
  "print(double(1), int(np.arange(4).sum()))",
  "print(sorted(name for name in ('handle', 'gen', 'sock') if name in globals()))",
].join("\n");

describe.each(await sandboxRuntimes())("under %s", (runtime) => {
  const { manager } = useSandboxes({ SANDBOX_RUNTIME: runtime, SANDBOX_POOL_SIZE: "0" });

  test("a session's variables come back in another sandbox: data, models, figures, functions, classes, modules", async () => {
    expect(await manager.execute("snap-a", SETUP)).toMatchObject({ status: "ok" });
    const { outcome, data } = await saveState(await manager.session("snap-a"), 64 * MB);
    expect(outcome.tooLarge).toBe(false);
    expect(outcome.saved).toEqual(expect.arrayContaining(["np", "pd", "plt", "df", "model", "fig", "offset", "double", "square", "Point", "Point3", "p", "points"]));
    expect(outcome.saved).not.toContain("handle");
    const skipped = Object.fromEntries(outcome.skipped.map((entry) => [entry.name, entry.reason]));
    expect(Object.keys(skipped).sort()).toEqual(["gen", "handle", "sock"]);
    expect(skipped.handle).toMatch(/TextIOWrapper.*open file/);
    expect(skipped.gen).toMatch(/generator/);
    expect(skipped.sock).toMatch(/socket.*open socket/);
    expect(data?.length).toBe(outcome.bytes);
    expect(outcome.largest.length).toBeGreaterThan(0);
    // The snapshot waits in a folder no listing shows, and the next execution removes it.
    expect((await manager.listFiles("snap-a")).map((file) => file.path)).toEqual(["/mnt/data/notes.txt"]);
    const next = await manager.execute("snap-a", "import os\nos.path.exists('/mnt/data/.codebot/state.pkl')");
    expect(next).toMatchObject({ status: "ok", result: "False", files: [], changes: { written: [], deleted: [], complete: true } });

    const restored = await loadState(await manager.session("snap-b"), data ?? Buffer.alloc(0));
    expect(restored.failed).toEqual([]);
    expect([...restored.restored].sort()).toEqual([...outcome.saved].sort());
    const check = await manager.execute("snap-b", CHECK);
    expect(check.stderr).toBe("");
    expect(check.stdout).toBe("True\n41.0\nTrue\n41 49 5.0 True True 10.0\n102 6\n[]\n");
    // Still the sandbox's first execution: the host, which restored it, says so in its own words.
    expect(check.freshSession).toBe(true);
    expect(check.changes).toEqual({ written: ["restored.png"], deleted: [], complete: true });
    expect(await manager.execute("snap-b", "import os\nos.path.exists('/mnt/data/.codebot/state.pkl')")).toMatchObject({ result: "False" });
  });

  test("over maxBytes nothing is written, and the largest variables are named", async () => {
    await manager.execute("snap-big", "import numpy as np\nbig = np.zeros(2_000_000)\nsmall = 'x' * 1000\nn = 1");
    const session = await manager.session("snap-big");
    const { outcome, data } = await saveState(session, 1 * MB);
    expect(data).toBeUndefined();
    expect(outcome).toMatchObject({ tooLarge: true, saved: [] });
    expect(outcome.bytes).toBeGreaterThan(16_000_000);
    expect(outcome.largest[0]?.name).toBe("big");
    expect(outcome.largest[0]?.bytes).toBeGreaterThan(16_000_000);
    expect(outcome.largest.map((entry) => entry.name)).toContain("small");
    await expect(session.download(".codebot/state.pkl")).rejects.toThrow(SandboxError);
    // Under the limit it fits.
    const fits = await saveState(session, 32 * MB);
    expect(fits.outcome.tooLarge).toBe(false);
    expect(fits.data?.length).toBeGreaterThan(16_000_000);
  });

  test("a tampered or garbage snapshot fails variable by variable, and the session keeps working", async () => {
    const target = "snap-tampered";
    await manager.execute(target, "mine = 'kept'");
    const session = await manager.session(target);
    const garbage = await loadState(session, Buffer.from("this is not a snapshot at all"));
    expect(garbage.restored).toEqual([]);
    expect(garbage.failed).toEqual([{ name: "(snapshot)", reason: expect.stringMatching(/not a namespace snapshot/) }]);
    // A file made by hand: a class whose module is gone, a good value, bytes that are no pickle, a reserved name.
    const crafted = await manager.execute(
      "snap-crafter",
      [
        "import pickle",
        "with open('/mnt/data/crafted.pkl', 'wb') as out:",
        "    for record in [('codebot-namespace', 1), ('gone', 'value', b'cnonexistent_mod\\nThing\\n.'), ('good', 'value', pickle.dumps([1, 2])),",
        "                   ('broken', 'value', b'\\x80\\x05junk'), ('__builtins__', 'value', pickle.dumps(0)), ('mod', 'module', 'no_such_module')]:",
        "        pickle.dump(record, out)",
      ].join("\n"),
    );
    expect(crafted.status).toBe("ok");
    const bytes = await manager.download("snap-crafter", "crafted.pkl");
    const partial = await loadState(session, bytes);
    expect(partial.restored).toEqual(["good"]);
    expect(Object.fromEntries(partial.failed.map((entry) => [entry.name, entry.reason]))).toEqual({
      gone: expect.stringMatching(/ModuleNotFoundError: No module named 'nonexistent_mod'/),
      broken: expect.any(String),
      __builtins__: "a reserved name",
      mod: expect.stringMatching(/No module named 'no_such_module'/),
    });
    expect(await manager.execute(target, "print(mine, good, len([1, 2]))")).toMatchObject({ status: "ok", stdout: "kept [1, 2] 2\n", stateLost: false });
  });

  test("a snapshot or restore that kills the Python process is an error, and the next execution works", async () => {
    const S = "snap-hostile";
    await manager.execute(S, "import os\nclass Bomb:\n    def __reduce__(self):\n        os._exit(3)\nbomb = Bomb()");
    const session = await manager.session(S);
    await expect(saveState(session, 16 * MB)).rejects.toThrow(/ended while saving the session's variables \(exit code 3\).*variables are lost/);
    expect(await manager.execute(S, "'bomb' in globals()")).toMatchObject({ status: "ok", result: "False" });
    // A snapshot whose value ends Python as it loads.
    await manager.execute(
      S,
      [
        "import pickle, os",
        "class Exit:",
        "    def __reduce__(self):",
        "        return (os._exit, (4,))",
        "with open('/mnt/data/exit.pkl', 'wb') as out:",
        "    pickle.dump(('codebot-namespace', 1), out)",
        "    pickle.dump(('boom', 'value', pickle.dumps(Exit())), out)",
      ].join("\n"),
    );
    const bytes = await manager.download(S, "exit.pkl");
    await expect(loadState(session, bytes)).rejects.toThrow(/ended while restoring the session's variables \(exit code 4\)/);
    expect(await manager.execute(S, "print('alive')")).toMatchObject({ status: "ok", stdout: "alive\n" });
    // A forged answer on the runner's channel during a snapshot is a protocol violation, not believed.
    await manager.execute(
      S,
      [
        "import json, os",
        "class Forge:",
        "    def __reduce__(self):",
        "        os.write(4, (json.dumps({'op': 'snapshot', 'id': 'x', 'saved': [], 'skipped': [], 'bytes': 0, 'largest': [], 'tooLarge': False}) + '\\n').encode())",
        "        return (int, ())",
        "forge = Forge()",
      ].join("\n"),
    );
    await expect(saveState(session, 16 * MB)).rejects.toThrow(/tampered with the runner's private channel/);
    expect(await manager.execute(S, "print('alive')")).toMatchObject({ status: "ok", stdout: "alive\n" });
  });

  test("exec results list the files written and deleted, relative to /mnt/data, never .codebot", async () => {
    const S = "snap-changes";
    const first = await manager.execute(S, "import os\nos.makedirs('/mnt/data/sub', exist_ok=True)\nopen('/mnt/data/a.txt', 'w').write('a')\nopen('/mnt/data/sub/b.txt', 'w').write('b')");
    expect(first.changes).toEqual({ written: ["a.txt", "sub/b.txt"], deleted: [], complete: true });
    const second = await manager.execute(S, "import os\nos.remove('/mnt/data/a.txt')\nopen('/mnt/data/sub/b.txt', 'a').write('more')");
    expect(second.changes).toEqual({ written: ["sub/b.txt"], deleted: ["a.txt"], complete: true });
    const session = await manager.session(S);
    await saveState(session, 16 * MB);
    // The code writing into the hidden folder itself is not reported either.
    const third = await manager.execute(S, "import os\nos.makedirs('/mnt/data/.codebot', exist_ok=True)\nopen('/mnt/data/.codebot/mine', 'w').write('x')\nopen('/mnt/data/c.txt', 'w').write('c')");
    expect(third.changes).toEqual({ written: ["c.txt"], deleted: [], complete: true });
    expect(third.files.map((file) => file.path)).toEqual(["/mnt/data/c.txt"]);
    expect((await manager.listFiles(S)).map((file) => file.path).sort()).toEqual(["/mnt/data/c.txt", "/mnt/data/sub/b.txt"]);
    const many = await manager.execute(S, "for i in range(5100):\n    open('/mnt/data/f%d' % i, 'w').close()");
    expect(many.changes?.complete).toBe(false);
  });

  test("a 1,000,000-row DataFrame goes through in seconds", async () => {
    const build = "import numpy as np, pandas as pd\nbig = pd.DataFrame({'a': np.arange(1_000_000), 'b': np.random.rand(1_000_000), 'c': ['s%d' % i for i in range(1_000_000)]})";
    expect(await manager.execute("snap-rows-a", build)).toMatchObject({ status: "ok" });
    let started = performance.now();
    const { outcome, data } = await saveState(await manager.session("snap-rows-a"), 256 * MB); // gathered by the test only
    const saveMs = performance.now() - started;
    expect(outcome.saved).toContain("big");
    started = performance.now();
    const restored = await loadState(await manager.session("snap-rows-b"), data ?? Buffer.alloc(0));
    const loadMs = performance.now() - started;
    expect(restored.restored).toContain("big");
    expect(await manager.execute("snap-rows-b", "print(len(big), big['c'].iloc[-1])")).toMatchObject({ stdout: "1000000 s999999\n" });
    console.log(`[${runtime}] 1,000,000-row DataFrame: ${(data?.length ?? 0) / MB} MB, snapshot + download ${Math.round(saveMs)} ms, upload + restore ${Math.round(loadMs)} ms`);
    expect(saveMs + loadMs).toBeLessThan(60_000);
  });
});
