import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import type { ExecutionResult } from "../../src/core/execution-result.js";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/log.js";
import { createSandboxes } from "../../src/app/sandboxes.js";
import { DirectoryStore } from "../../src/workspace/directory-store.js";
import { workspaceIdFor } from "../../src/workspace/workspace-id.js";
import { META_OBJECT, parseMeta } from "../../src/workspace/workspace-meta.js";
import { sandboxRuntimes } from "../support/runtimes.js";
import { testNamespace } from "../support/sandbox-fixture.js";

// Durable workspaces against a real sandbox and a directory store: file names the sandbox chooses
// are ordinary names (never an object's inherited members), sparse files count at their apparent
// size, the caps on bytes and on files hold, and a full sync sends only what changed.

const MB = 1024 * 1024;
const OBJECT_KEYS = ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf", "__defineGetter__"];

describe.each(await sandboxRuntimes())("under %s", (runtime) => {
  const storeDir = mkdtempSync(join(tmpdir(), "codebot-caps-"));
  const namespace = testNamespace();
  const config = loadConfig({
    ...process.env,
    SANDBOX_RUNTIME: runtime,
    SANDBOX_NAMESPACE: namespace,
    SANDBOX_POOL_SIZE: "0",
    WORKSPACE_STORE: storeDir,
    WORKSPACE_MAX_MB: "8",
    WORKSPACE_MAX_FILES: "40",
    SANDBOX_MAX_FILE_MB: "6",
  });
  const runtimeSandboxes = createSandboxes(config, createLogger(process.env.LOG_LEVEL ?? "warn"));
  const sandboxes = runtimeSandboxes.durable!;
  const store = new DirectoryStore(storeDir);
  afterAll(async () => {
    await runtimeSandboxes.manager.destroyAll();
    rmSync(storeDir, { recursive: true, force: true });
  });

  const workspace = (thread: string) => workspaceIdFor(`${namespace}/${thread}`);
  async function run(thread: string, code: string): Promise<{ result: ExecutionResult; notes: string[] }> {
    const result = await sandboxes.execute(thread, code, { timeoutMs: 60_000 });
    expect(result.status, result.stderr).toBe("ok");
    return { result, notes: await sandboxes.settle(thread) };
  }
  async function kept(thread: string): Promise<Map<string, { size: number; modifiedAt: number }>> {
    const objects = await store.list(workspace(thread));
    return new Map(objects.filter((object) => object.name.startsWith("files/")).map((object) => [object.name.slice(6), { size: object.size, modifiedAt: object.modifiedAt.getTime() }]));
  }
  const bytesOf = (files: Map<string, { size: number }>) => [...files.values()].reduce((sum, file) => sum + file.size, 0);

  test("files named constructor, __proto__, toString… are saved and restored as ordinary files, and the caps still apply", async () => {
    const write = [
      "import os",
      `for name in ${JSON.stringify(OBJECT_KEYS)}: open('/mnt/data/' + name, 'w').write('I am ' + name)`,
      "os.makedirs('/mnt/data/constructor.d/__proto__', exist_ok=True)",
      "open('/mnt/data/constructor.d/__proto__/toString', 'w').write('deep')",
      "for i in range(3):",
      "    f = open('/mnt/data/sparse-%d.bin' % i, 'wb'); f.truncate(450 * 1024 * 1024); f.close()",
      "open('/mnt/data/real.bin', 'wb').write(os.urandom(5 * 1024 * 1024))",
      "open('/mnt/data/more.bin', 'wb').write(os.urandom(5 * 1024 * 1024))",
    ].join("\n");
    const { notes } = await run("keys", write);
    // In the order the sandbox lists them: more.bin fits, real.bin would go past 8 MB, the sparse files are over 6 MB each.
    expect(notes.join("\n")).toMatch(/limited to 8\.0 MB \(and 6\.0 MB a file\): "real\.bin", "sparse-0\.bin", "sparse-1\.bin", "sparse-2\.bin" could not be saved/);
    const files = await kept("keys");
    expect([...files.keys()].sort()).toEqual([...OBJECT_KEYS, "constructor.d/__proto__/toString", "more.bin"].sort());
    expect(bytesOf(files)).toBeLessThanOrEqual(8 * MB);
    const meta = parseMeta(await store.get(workspace("keys"), META_OBJECT));
    expect(meta?.files.get("__proto__")?.size).toBe("I am __proto__".length);
    expect(meta?.files.get("constructor")?.size).toBe("I am constructor".length);
    expect((await sandboxes.workspaces.summary("keys"))?.bytes).toBe(bytesOf(files));

    // A fresh sandbox gets them back, byte for byte.
    expect(await sandboxes.hibernate("keys")).toBe(true);
    const { result } = await run("keys", `print([open('/mnt/data/' + n).read() for n in ${JSON.stringify(OBJECT_KEYS)}], open('/mnt/data/constructor.d/__proto__/toString').read())`);
    expect(result.stdout).toBe(`${JSON.stringify(OBJECT_KEYS.map((name) => `I am ${name}`)).replaceAll('"', "'").replaceAll(",", ", ")} deep\n`);
  });

  test("a workspace written by an older version (files as an object) is read as data, whatever its keys", async () => {
    const id = workspace("legacy");
    const legacy = { version: 1, namespace, threadKey: "legacy", files: { constructor: 3, toString: 4, "a.txt": 5 }, updatedAt: new Date().toISOString(), stateAt: null, stateNotes: [], hibernatedAt: null };
    await store.put(id, META_OBJECT, Buffer.from(JSON.stringify(legacy)));
    for (const [name, size] of Object.entries(legacy.files)) await store.put(id, `files/${name}`, Buffer.alloc(size, 97));
    const summary = await sandboxes.workspaces.summary("legacy");
    expect(summary).toMatchObject({ files: 3, bytes: 12 });
    const { result } = await run("legacy", "import os\nprint(sorted((n, os.path.getsize('/mnt/data/' + n)) for n in os.listdir('/mnt/data')))");
    expect(result.stdout).toBe("[('a.txt', 5), ('constructor', 3), ('toString', 4)]\n");
  });

  test("sparse files count at their apparent size: in the listing, against the cap, and in the store", async () => {
    const { notes } = await run("sparse", "f = open('/mnt/data/holes.bin', 'wb'); f.truncate(5 * 1024 * 1024); f.close()");
    expect(notes).toEqual([]);
    expect((await kept("sparse")).get("holes.bin")?.size).toBe(5 * MB);
    expect((await sandboxes.listFiles("sparse")).find((file) => file.path === "/mnt/data/holes.bin")?.size).toBe(5 * MB);
    const second = await run("sparse", "f = open('/mnt/data/holes-2.bin', 'wb'); f.truncate(5 * 1024 * 1024); f.close()");
    expect(second.notes.join("\n")).toMatch(/limited to 8\.0 MB.*"holes-2\.bin" could not be saved/s);
    expect([...(await kept("sparse")).keys()]).toEqual(["holes.bin"]);
  });

  test("past WORKSPACE_MAX_FILES new files are not saved, and the answer says so", async () => {
    const { notes } = await run("count", "import os\nos.makedirs('/mnt/data/many', exist_ok=True)\nfor i in range(45): open('/mnt/data/many/f%02d.txt' % i, 'w').write(str(i))");
    expect(notes.join("\n")).toMatch(/keeps at most 40 saved files: 5 new files \("many\/f40\.txt", "many\/f41\.txt", "many\/f42\.txt", "many\/f43\.txt", "many\/f44\.txt"\) could not be saved/);
    expect((await kept("count")).size).toBe(40);
    // Deleting some makes room for others; a changed file already kept is never refused for the count.
    const after = await run("count", "import os\nfor i in range(10): os.remove('/mnt/data/many/f%02d.txt' % i)\nopen('/mnt/data/many/f11.txt', 'w').write('changed')\nopen('/mnt/data/new.txt', 'w').write('n')");
    expect(after.notes).toEqual([]);
    const files = await kept("count");
    expect(files.size).toBe(31);
    expect(files.get("many/f11.txt")?.size).toBe(7);
  });

  test("a full sync sends only the files whose size or time changed, and deletes what is gone", async () => {
    await run("sync", "import os\nos.makedirs('/mnt/data/d', exist_ok=True)\nfor i in range(30): open('/mnt/data/d/f%02d.txt' % i, 'w').write('v1 %d' % i)");
    const before = await kept("sync");
    expect(before.size).toBe(30);
    await new Promise((resolve) => setTimeout(resolve, 50));
    // A name that can't be said as text makes the change list incomplete: the whole folder is synced.
    const { result, notes } = await run(
      "sync",
      "import os\nopen('/mnt/data/d/f03.txt', 'w').write('v2 changed')\nos.remove('/mnt/data/d/f07.txt')\nopen('/mnt/data/d/new.txt', 'w').write('new')\nopen(b'/mnt/data/bad-\\xff', 'w').write('x')",
    );
    expect(result.changes?.complete).toBe(false);
    expect(notes.join("\n")).toMatch(/A file has a name that can't be saved/);
    const after = await kept("sync");
    expect([...after.keys()].filter((path) => !before.has(path))).toEqual(["d/new.txt"]);
    expect(after.has("d/f07.txt")).toBe(false);
    const rewritten = [...after].filter(([path, file]) => before.get(path)?.modifiedAt !== file.modifiedAt).map(([path]) => path);
    expect(rewritten.sort()).toEqual(["d/f03.txt", "d/new.txt"]);

    // After a sleep and a resume the files keep their times (to the millisecond): a full sync then sends nothing.
    expect(await sandboxes.hibernate("sync")).toBe(true);
    const resumed = await kept("sync");
    const again = await run("sync", "open(b'/mnt/data/bad-\\xfe', 'w').write('y')");
    expect(again.result.changes?.complete).toBe(false);
    const final = await kept("sync");
    expect([...final].filter(([path, file]) => resumed.get(path)?.modifiedAt !== file.modifiedAt)).toEqual([]);
    expect(final.size).toBe(30);
  });
});
