import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, test, vi } from "vitest";
import { bufferSource, readWhole, type FileRead } from "../../src/sandbox/file-streams.js";
import type { SandboxEngine } from "../../src/sandbox/sandbox-engine.js";
import type { SandboxSession } from "../../src/sandbox/sandbox-session.js";
import type { SessionBackend } from "../../src/sandbox/session-backend.js";
import { CALL_CHUNK_BYTES, type SessionCall, type SessionCallHandler } from "../../src/sandbox/session-calls.js";
import type { SessionEventHub, SessionEvents } from "../../src/sandbox/session-events.js";
import type { DurableSandboxes } from "../../src/workspace/durable-sandboxes.js";

/**
 * What the contract runs against: a backend built as a worker builds it (with durable workspaces),
 * reached only through the port (src/sandbox/sandbox-engine.ts, session-backend.ts, the
 * SandboxSession), plus the one thing the suite can't do through it: losing a sandbox behind the
 * backend's back, as a lost machine or a deleted pod would.
 */
export interface BackendUnderTest {
  /** What turns use: durable workspaces over the backend. */
  durable: DurableSandboxes;
  /** Where sessions run: one engine, or a fleet. */
  backend: SessionBackend;
  /** The engines (one, or a fleet's members). */
  engines: SandboxEngine[];
  /** The runtime's events, which the suite subscribes to. */
  events: SessionEventHub;
  /** A thread's live session, opened through its engine (a fleet routes it first). */
  session(sessionId: string): Promise<SandboxSession>;
  /** Makes the session's sandbox vanish (a container removed, a pod deleted) without telling the backend. */
  loseSandbox(sessionId: string): Promise<void>;
  /** Which OCI runtime runs the sandboxes ("runsc": the code's memory is capped inside, a MemoryError rather than an OOM). */
  runtime: string;
}

/** The settings a backend under the contract is built with (its SANDBOX_MEMORY_MB makes the memory test quick). */
export const CONTRACT_SETTINGS = {
  SANDBOX_MEMORY_MB: "256",
  SANDBOX_POOL_SIZE: "1",
  SANDBOX_TIMEOUT_SECONDS: "20",
  SANDBOX_MAX_FILE_MB: "8",
} as const;

type Told = { [K in keyof SessionEvents]-?: Array<Parameters<NonNullable<SessionEvents[K]>>[0]> };

/** Every event the runtime told, by kind, from the suite's start. */
function recorder(events: SessionEventHub): Told {
  const told: Told = { onPoolClaim: [], onFreshSession: [], onResumed: [], onHibernated: [], onEvicted: [], onSessionEnded: [] };
  events.subscribe({
    onPoolClaim: (event) => void told.onPoolClaim.push(event),
    onFreshSession: (event) => void told.onFreshSession.push(event),
    onResumed: (event) => void told.onResumed.push(event),
    onHibernated: (event) => void told.onHibernated.push(event),
    onEvicted: (event) => void told.onEvicted.push(event),
    onSessionEnded: (event) => void told.onSessionEnded.push(event),
  });
  return told;
}

/** Reads files whole out of a read (bounded by the test's own sizes). */
async function collect(read: (each: (file: FileRead) => Promise<void>) => Promise<unknown>): Promise<Map<string, Buffer>> {
  const got = new Map<string, Buffer>();
  await read(async (file) => void got.set(file.path, await readWhole(file.body)));
  return got;
}

/**
 * A thread's whole life through a sandbox backend: its first execution (a fresh session, from the
 * pool when it has one), its state across executions, files in and out within budgets, sleep and
 * resume with files and variables, a sandbox lost under it, cancel, the code's data-source calls
 * answered by the host, timeout, running out of memory, and its end. Every backend (Docker: one engine and a fleet; Kubernetes next) passes the same
 * suite; `subject` is read once the file's hooks have built it.
 */
export function backendContract(name: string, subject: () => BackendUnderTest): void {
  describe(`the sandbox backend contract: ${name}`, () => {
    let it: BackendUnderTest;
    let told: Told;
    const thread = (label: string) => `contract-${label}-${randomBytes(3).toString("hex")}`;

    beforeAll(() => {
      it = subject();
      told = recorder(it.events);
    });

    test("a first execution starts a fresh session, and its state lasts across executions", async () => {
      const id = thread("first");
      const first = await it.durable.execute(id, "import statistics\nvalues = [3, 1, 4, 1, 5]\nopen('/mnt/data/first.txt', 'w').write('hello')");
      expect(first).toMatchObject({ status: "ok", stateLost: false });
      expect(told.onFreshSession.filter((event) => event.sessionId === id)).toHaveLength(1);
      expect(told.onPoolClaim.length).toBeGreaterThan(0);
      const second = await it.durable.execute(id, "print(statistics.median(values))\nopen('/mnt/data/first.txt').read()");
      expect(second).toMatchObject({ status: "ok", stdout: "3\n", result: "'hello'", stateLost: false });
      expect(told.onFreshSession.filter((event) => event.sessionId === id)).toHaveLength(1);
      expect((await it.durable.download(id, "first.txt")).toString()).toBe("hello");
    });

    test("files go in and come out as streams, within their budgets", async () => {
      const id = thread("files");
      const session = await it.session(id);
      const large = randomBytes(3 * 1024 * 1024 + 17); // past what one supervisor answer carries: the backend's own transfer
      const small = Buffer.from("a,b\n1,2\n");
      const put = await session.putFiles([bufferSource("in/small.csv", small, 1_700_000_000_123), bufferSource("in/large.bin", large)], { maxBytes: large.length + small.length });
      expect(put).toEqual({ files: 2, bytes: large.length + small.length });
      const tree = await session.listTree(100);
      expect(tree.complete).toBe(true);
      const listed = new Map(tree.files.map((file) => [file.path, file]));
      expect(listed.get("in/small.csv")).toMatchObject({ size: small.length, mtimeMs: 1_700_000_000_123 });
      expect(listed.get("in/large.bin")?.size).toBe(large.length);
      expect((await session.listTree(1)).complete).toBe(false);

      const entries = [listed.get("in/small.csv")!, listed.get("in/large.bin")!];
      const all = await collect((each) => session.readFiles(entries, { maxBytes: large.length + small.length }, each));
      expect(all.get("in/small.csv")?.equals(small)).toBe(true);
      expect(all.get("in/large.bin")?.equals(large)).toBe(true);
      // A budget too small for the large file: refused before a byte of it is read, the small one still read.
      const outcomes: Array<Awaited<ReturnType<SandboxSession["readFiles"]>>> = [];
      const some = await collect(async (each) => outcomes.push(await session.readFiles(entries, { maxBytes: 1024 * 1024 }, each)));
      expect([...some.keys()]).toEqual(["in/small.csv"]);
      expect(outcomes[0]?.refused.map((file) => file.path)).toEqual(["in/large.bin"]);
      await expect(session.readFiles(entries, { maxBytes: Number.NaN }, async () => undefined)).rejects.toThrow(RangeError);
      // The code sees them, owned by its user, and what it writes is listed and read the same way.
      const seen = await it.durable.execute(id, "import os\nprint(os.path.getsize('/mnt/data/in/large.bin'), open('/mnt/data/in/small.csv').read().count(','))\nopen('/mnt/data/out.txt', 'w').write('x' * 100)");
      expect(seen).toMatchObject({ status: "ok", stdout: `${large.length} 2\n` });
      const out = await session.statFiles(["out.txt", "missing.txt"]);
      expect([...out.keys()]).toEqual(["out.txt"]);
    });

    test("a session sleeps with its variables and files, and resumes in a fresh sandbox", async () => {
      const id = thread("sleep");
      await it.durable.execute(id, "kept = {'a': [1, 2, 3]}\nopen('/mnt/data/notes.txt', 'w').write('before sleep')");
      expect(await it.durable.settle(id)).toEqual([]);
      expect(await it.durable.hibernate(id)).toBe(true);
      expect(told.onHibernated.filter((event) => event.sessionId === id)).toEqual([expect.objectContaining({ evicted: false })]);
      expect(told.onSessionEnded.filter((event) => event.sessionId === id)).toEqual([expect.objectContaining({ reason: "hibernated" })]);
      expect(it.backend.openSessionIds()).not.toContain(id);
      const resumed = await it.durable.execute(id, "print(kept['a'][2], open('/mnt/data/notes.txt').read())");
      expect(resumed).toMatchObject({ status: "ok", stdout: "3 before sleep\n", stateLost: false, notes: [] });
      expect(told.onResumed.filter((event) => event.sessionId === id)).toEqual([expect.objectContaining({ files: 1, variables: true })]);
      expect(told.onFreshSession.filter((event) => event.sessionId === id)).toHaveLength(2);
    });

    test("snapshots move as bytes: saved from one session, loaded into another", async () => {
      const [from, to] = [await it.session(thread("snap-a")), await it.session(thread("snap-b"))];
      await from.execute("import collections\nrows = collections.Counter('abracadabra')");
      const chunks: Buffer[] = [];
      const outcome = await from.saveState(16 * 1024 * 1024, async (snapshot) => void chunks.push(await readWhole(snapshot.body)));
      expect(outcome).toMatchObject({ tooLarge: false, saved: expect.arrayContaining(["rows"]) });
      const snapshot = Buffer.concat(chunks);
      expect(snapshot.length).toBe(outcome.bytes);
      const restored = await to.loadState(bufferSource("", snapshot));
      expect(restored.restored).toContain("rows");
      expect((await to.execute("rows.most_common(1)")).result).toBe("[('a', 5)]");
      // Too large: nothing is kept, and the largest are named.
      const refused = await from.saveState(16, async () => expect.unreachable("nothing is handed on when too large"));
      expect(refused).toMatchObject({ tooLarge: true, largest: expect.arrayContaining([expect.objectContaining({ name: "rows" })]) });
    });

    test("a sandbox lost under a thread: the next execution resumes its files in a fresh one, and says the variables are gone", async () => {
      const id = thread("lost");
      await it.durable.execute(id, "lost_var = 1\nopen('/mnt/data/saved.txt', 'w').write('saved')");
      expect(await it.durable.settle(id)).toEqual([]);
      await it.loseSandbox(id);
      // The next message comes after the backend noticed (its attachment closed): a pod's close
      // travels one hop more (the API server's attach) than a container's, so it is waited for.
      await vi.waitFor(() => expect(it.backend.openSessionIds()).not.toContain(id), { timeout: 15_000, interval: 50 });
      const after = await it.durable.execute(id, "print('lost_var' in globals(), open('/mnt/data/saved.txt').read())");
      expect(after).toMatchObject({ status: "ok", stdout: "False saved\n" });
      expect(after.notes.join(" ")).toMatch(/ended unexpectedly: its file is back .* variables from before then were lost/);
    });

    test("a cancelled execution stops at once and keeps the session's state", async () => {
      const id = thread("cancel");
      await it.durable.execute(id, "kept = 'yes'");
      const abort = new AbortController();
      const started = Date.now();
      setTimeout(() => abort.abort(), 500);
      const result = await it.durable.execute(id, "import time\nwhile True:\n    time.sleep(0.1)", { signal: abort.signal, timeoutMs: 30_000 });
      expect(result).toMatchObject({ status: "cancelled", stateLost: false });
      expect(Date.now() - started).toBeLessThan(5_000);
      expect((await it.durable.execute(id, "kept")).result).toBe("'yes'");
    });

    test("the code's data-source calls reach the host through the session, and their answers stream back in", async () => {
      const id = thread("calls");
      const calls: SessionCall[] = [];
      const rows = 40_000;
      const body = Buffer.from(Array.from({ length: rows }, (_, i) => `row${i}\n`).join(""));
      const onCall: SessionCallHandler = async (call, sink) => {
        calls.push(call);
        for (let at = 0; at < body.length; at += CALL_CHUNK_BYTES) await sink.write(body.subarray(at, at + CALL_CHUNK_BYTES));
        return { columns: [{ name: "v", type: "text" }], rows };
      };
      const result = await it.durable.execute(id, "from codebot import sql\ndf = sql('shop', 'select v')\n(len(df), df['v'].iloc[-1])", { onCall });
      expect(result).toMatchObject({ status: "ok", result: `(${rows}, 'row${rows - 1}')` });
      expect(calls).toEqual([expect.objectContaining({ kind: "sql", source: "shop", statement: "select v" })]);
      // Without a handler (an execution given none) the call is refused, and the session goes on.
      const refused = await it.durable.execute(id, "from codebot import sql, NotAllowedHere\ntry:\n    sql('shop', 'select 1')\nexcept NotAllowedHere:\n    print('refused')");
      expect(refused).toMatchObject({ status: "ok", stdout: "refused\n" });
    });

    test("an execution past its timeout is interrupted, and the session keeps its variables", async () => {
      const id = thread("timeout");
      await it.durable.execute(id, "kept = 'yes'");
      const result = await it.durable.execute(id, "while True:\n    pass", { timeoutMs: 2000 });
      expect(result).toMatchObject({ status: "timeout", stateLost: false });
      expect(result.error?.name).toBe("KeyboardInterrupt");
      expect((await it.durable.execute(id, "kept")).result).toBe("'yes'");
    });

    test("running out of memory ends the execution clearly; files are kept and the session goes on", async () => {
      const id = thread("oom");
      await it.durable.execute(id, "open('/mnt/data/keep.txt', 'w').write('kept')");
      const result = await it.durable.execute(id, "hog = []\nwhile True:\n    hog.append(bytearray(10**7))");
      if (it.runtime === "runsc" && result.status === "error") {
        // Under gVisor the code's memory is capped inside: one allocation past RLIMIT_AS is a MemoryError.
        expect(result.error?.name).toBe("MemoryError");
      } else {
        expect(result).toMatchObject({ status: "oom", stateLost: true });
        expect(result.notes.join(" ")).toMatch(/ran out of memory/);
      }
      expect((await it.durable.execute(id, "globals().pop('hog', None)\nopen('/mnt/data/keep.txt').read()")).result).toBe("'kept'");
    });

    test("ending a thread's session removes its sandbox and its workspace for good", async () => {
      const id = thread("end");
      await it.durable.execute(id, "gone = 1\nopen('/mnt/data/gone.txt', 'w').write('x')");
      await it.durable.settle(id);
      expect(await it.durable.kill(id)).toBe(true);
      expect(told.onSessionEnded.filter((event) => event.sessionId === id)).toEqual([expect.objectContaining({ reason: "killed" })]);
      const listed = (await Promise.all(it.engines.map((engine) => engine.listSessions()))).flat();
      expect(listed.map((session) => session.sessionId)).not.toContain(id);
      const fresh = await it.durable.execute(id, "import os\nprint('gone' in globals(), os.path.exists('/mnt/data/gone.txt'))");
      expect(fresh).toMatchObject({ status: "ok", stdout: "False False\n" });
    });
  });
}
