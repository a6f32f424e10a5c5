import { describe, expect, test } from "vitest";
import { bufferSource, readWhole, type FileRead, type TreeEntry } from "../../src/sandbox/file-streams.js";
import { SandboxError } from "../../src/sandbox/sandbox-error.js";
import { sandboxRuntimes } from "../support/runtimes.js";
import { useSandboxes } from "../support/sandbox-fixture.js";

// Durable workspaces move files between a sandbox and the store as streams, through methods of the
// session (listTree, statFiles, readFiles, putFiles): what the sandbox lists and sends is hostile,
// every read has a byte budget and a timeout, and nothing is pulled through the worker to be skipped.

const MB = 1024 * 1024;

/** Every file handed on, with the bytes of its body (the tests' files are small or counted only). */
function collector(keep = true) {
  const got: Array<{ path: string; size: number; bytes: number; data?: Buffer }> = [];
  const each = async (file: FileRead) => {
    if (keep) {
      const data = await readWhole(file.body);
      got.push({ path: file.path, size: file.size, bytes: data.length, data });
    } else {
      let bytes = 0;
      for await (const chunk of file.body) bytes += (chunk as Buffer).length;
      got.push({ path: file.path, size: file.size, bytes });
    }
  };
  return { got, each };
}

describe.each(await sandboxRuntimes())("under %s", (runtime) => {
  const { manager } = useSandboxes({ SANDBOX_RUNTIME: runtime, SANDBOX_POOL_SIZE: "0", SANDBOX_DISK_MB: "1024" });

  test("the listing gives apparent sizes and mtimes, leaves out .codebot, links and special files, and pages", async () => {
    const S = "tree";
    const made = await manager.execute(
      S,
      [
        "import os",
        "os.makedirs('/mnt/data/sub/deeper', exist_ok=True)",
        "f = open('/mnt/data/sparse.bin', 'wb'); f.truncate(300 * 1024 * 1024); f.close()",
        "for i in range(6000): open('/mnt/data/sub/deeper/f%04d' % i, 'w').close()",
        "open('/mnt/data/constructor', 'w').write('c')",
        "os.symlink('/etc/passwd', '/mnt/data/link')",
        "os.mkfifo('/mnt/data/fifo')",
        "os.makedirs('/mnt/data/.codebot', exist_ok=True); open('/mnt/data/.codebot/mine', 'w').write('x')",
        "os.utime('/mnt/data/constructor', ns=(1_700_000_000_123_456_789, 1_700_000_000_123_456_789))",
      ].join("\n"),
      { timeoutMs: 120_000 },
    );
    expect(made.status).toBe("ok");
    const session = await manager.session(S);
    const tree = await session.listTree(10_000);
    expect(tree.complete).toBe(true);
    expect(tree.files).toHaveLength(6002);
    const byPath = new Map(tree.files.map((file) => [file.path, file]));
    expect(byPath.get("sparse.bin")?.size).toBe(300 * MB); // a sparse file at its full length
    expect(byPath.get("constructor")).toEqual({ path: "constructor", size: 1, mtimeMs: 1_700_000_000_123 });
    expect([...byPath.keys()].filter((path) => path.startsWith(".codebot") || path === "link" || path === "fifo")).toEqual([]);
    const page = await session.listTree(100);
    expect(page).toMatchObject({ complete: false });
    expect(page.files).toHaveLength(100);
    const stats = await session.statFiles(["constructor", "sparse.bin", "link", "fifo", "missing", "../etc/passwd", ".codebot/outbox-0000000000000000/x"]);
    expect([...stats.keys()].sort()).toEqual(["constructor", "sparse.bin"]);
  });

  test("a read takes what fits its budget, refuses the rest unread, and checks every budget is a finite number", async () => {
    const S = "budget";
    await manager.execute(S, "import os\nfor i in range(12): open('/mnt/data/f%02d' % i, 'wb').write(os.urandom(100_000))\nf = open('/mnt/data/sparse', 'wb'); f.truncate(450 * 1024 * 1024); f.close()");
    const session = await manager.session(S);
    const listed = (await session.listTree(100)).files.sort((a, b) => a.path.localeCompare(b.path));
    const { got, each } = collector(false);
    const outcome = await session.readFiles(listed, { maxBytes: 1_000_000, maxFileBytes: 100 * MB }, each);
    expect(outcome.read.map((file) => file.path)).toEqual(listed.slice(0, 10).map((file) => file.path));
    expect(outcome.refused.map((file) => file.path)).toEqual(["f10", "f11", "sparse"]);
    expect(got.every((file) => file.bytes === 100_000)).toBe(true);
    expect(got.reduce((sum, file) => sum + file.bytes, 0)).toBe(1_000_000);
    // NaN, Infinity or a negative budget is refused before anything is read (a NaN once let everything through).
    for (const maxBytes of [Number.NaN, Number.POSITIVE_INFINITY, -1]) {
      await expect(session.readFiles(listed, { maxBytes }, each)).rejects.toThrow(RangeError);
    }
    await expect(session.readFiles(listed, { maxBytes: 10 * MB, maxFileBytes: Number.NaN }, each)).rejects.toThrow(RangeError);
    await expect(session.download("sparse", Number.NaN)).rejects.toThrow(RangeError);
    expect(got).toHaveLength(10);
  });

  test("a file that is larger than listed is stopped before a byte of it is read", async () => {
    const S = "grown";
    await manager.execute(S, "import os\nfor i in range(10): open('/mnt/data/g%d' % i, 'wb').write(os.urandom(2 * 1024 * 1024))");
    const session = await manager.session(S);
    const listed = (await session.listTree(100)).files.sort((a, b) => a.path.localeCompare(b.path));
    await manager.execute(S, "f = open('/mnt/data/g3', 'r+b'); f.truncate(400 * 1024 * 1024); f.close()");
    const { got, each } = collector(false);
    const failure = await session.readFiles(listed, { maxBytes: 100 * MB, maxFileBytes: 100 * MB }, each).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(SandboxError);
    expect((failure as SandboxError).code).toBe("FILE_TOO_LARGE");
    expect((failure as Error).message).toMatch(/g3 changed size/);
    expect(got.map((file) => file.path)).toEqual(["g0", "g1", "g2"]); // read before it, in the listing's order; none of g3
    expect(got.reduce((sum, file) => sum + file.bytes, 0)).toBe(6 * MB);
    expect(await manager.execute(S, "print('alive')")).toMatchObject({ status: "ok", stdout: "alive\n" });
  });

  test("a read that outlasts its timeout is stopped, and the session goes on", async () => {
    const S = "slow";
    await manager.execute(S, "import os\nopen('/mnt/data/big.bin', 'wb').write(os.urandom(64 * 1024 * 1024))");
    const session = await manager.session(S);
    const listed = (await session.listTree(10)).files;
    let taken = 0;
    const started = performance.now();
    const failure = await session
      .readFiles(listed, { maxBytes: 100 * MB, timeoutMs: 1500 }, async (file) => {
        for await (const chunk of file.body) {
          taken += (chunk as Buffer).length;
          await new Promise((resolve) => setTimeout(resolve, 200)); // a store that can't keep up
        }
      })
      .catch((error: unknown) => error);
    expect((failure as SandboxError).code).toBe("TRANSFER_TIMEOUT");
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(taken).toBeLessThan(64 * MB);
    expect(await manager.execute(S, "print('alive')")).toMatchObject({ status: "ok", stdout: "alive\n" });
  });

  test("files go in as streams, with their folders, modes and mtimes (to the millisecond)", async () => {
    const S = "put";
    const session = await manager.session(S);
    const body = Buffer.alloc(3 * MB, 7);
    const put = await session.putFiles(
      [bufferSource("deep/er/constructor", Buffer.from("ctor"), 1_700_000_000_456), bufferSource("__proto__", body, 1_600_000_000_789), bufferSource("toString", Buffer.alloc(0))],
      { maxBytes: 4 * MB },
    );
    expect(put).toEqual({ files: 3, bytes: 3 * MB + 4 });
    const check = await manager.execute(
      S,
      "import os\nst = os.stat('/mnt/data/deep/er/constructor')\nprint(open('/mnt/data/deep/er/constructor').read(), st.st_mtime_ns // 1_000_000, st.st_uid, os.path.getsize('/mnt/data/__proto__'), os.stat('/mnt/data/__proto__').st_mtime_ns // 1_000_000, os.path.getsize('/mnt/data/toString'))",
    );
    expect(check.stdout).toBe(`ctor 1700000000456 1000 ${3 * MB} 1600000000789 0\n`);
    const tree = await session.listTree(10);
    expect(tree.files.find((file) => file.path === "deep/er/constructor")?.mtimeMs).toBe(1_700_000_000_456);
    // A body shorter than it said fails the upload.
    await expect(session.putFiles([{ path: "short", size: 10, open: async () => (await import("node:stream")).Readable.from([Buffer.from("abc")]) }], { maxBytes: 10 })).rejects.toThrow(/ended after 3 of its 10 bytes/);
  });

  describe("the sandbox can't steer a read", () => {
    test("links in the way are never followed, in bulk or through the archive", async () => {
      const S = "links";
      await manager.execute(
        S,
        [
          "import os",
          "os.symlink('/etc', '/mnt/data/etc')",
          "os.symlink('/etc/passwd', '/mnt/data/passwd')",
          "os.makedirs('/mnt/data/.codebot', exist_ok=True)",
          "os.symlink('/proc/1/environ', '/mnt/data/.codebot/x')",
          "for i in range(9): open('/mnt/data/ok%d' % i, 'w').write('fine %d' % i)",
        ].join("\n"),
      );
      const session = await manager.session(S);
      const forged: TreeEntry[] = [
        { path: "etc/passwd", size: 1000, mtimeMs: 0 },
        { path: "passwd", size: 1000, mtimeMs: 0 },
        { path: ".codebot/x", size: 1000, mtimeMs: 0 },
        ...Array.from({ length: 9 }, (_, i) => ({ path: `ok${i}`, size: 6, mtimeMs: 0 })),
      ];
      const { got, each } = collector();
      const outcome = await session.readFiles(forged, { maxBytes: 10 * MB }, each);
      expect(outcome.missing.sort()).toEqual([".codebot/x", "etc/passwd", "passwd"]);
      expect(got.map((file) => file.data?.toString()).sort()).toEqual(Array.from({ length: 9 }, (_, i) => `fine ${i}`));
      // Listed as a large file, a link is refused at the archive's header: nothing of it is handed on.
      for (const path of ["passwd", "etc/passwd"]) {
        const large = collector();
        await expect(session.readFiles([{ path, size: 3 * MB, mtimeMs: 0 }], { maxBytes: 10 * MB }, large.each)).rejects.toThrow(SandboxError);
        expect(large.got).toEqual([]);
      }
    });
  });
});
