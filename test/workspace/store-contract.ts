import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { describe, expect, test } from "vitest";
import { workspaceIdFor } from "../../src/workspace/workspace-id.js";
import type { WorkspaceStore } from "../../src/workspace/workspace-store.js";
import { WorkspaceStoreError } from "../../src/workspace/workspace-store-error.js";

/** Names that must be refused by every store, before anything is read or written. */
export const BAD_NAMES = [
  "",
  "/etc/passwd",
  "../escape",
  "files/../../escape",
  "files/./x",
  "files/..",
  ".",
  "..",
  "files//x",
  "files/",
  "files/x\u0000.txt",
  "files/x\n.txt",
  "files/x\r",
  "files/\u001b[31mred",
  "files/\u007f",
  "files/\u0085next-line",
  "files/\u2028",
  "files\\..\\..\\escape",
  "files/a\\b",
  "files/lone-\ud800-surrogate",
  `files/${"x".repeat(256)}`,
  `files/${"é".repeat(128)}`, // 256 bytes of UTF-8 in 128 characters
  `${"abcdefgh/".repeat(114)}x`, // 1027 bytes
];

export const BAD_IDS = ["", "..", "../x", "A".repeat(64), "g".repeat(64), "a".repeat(63), "a".repeat(65), `${"a".repeat(63)}/`, `../${"a".repeat(61)}`];

/** Names that look odd but are fine: spaces, Unicode, and what URLs and shells treat specially. */
export const ODD_NAMES = [
  "files/report 1.csv",
  "files/ünïcødé/データ 日本語.txt",
  "files/emoji 🎉.png",
  "files/100% sure?.txt",
  "files/a+b=c&d;e,f.txt",
  "files/#hash [1] {2} (3).txt",
  "files/quote's \"double\" `tick`.txt",
  "files/~tilde $dollar @at !bang.txt",
  "files/.hidden",
  "files/...",
  "files/-dash",
  `files/${"n".repeat(255)}`,
  `files/${"é".repeat(127)}`, // 254 bytes
];

async function rejection(promise: Promise<unknown>): Promise<WorkspaceStoreError> {
  const error = await promise.then(
    () => undefined,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(WorkspaceStoreError);
  return error as WorkspaceStoreError;
}

function fresh(): string {
  return workspaceIdFor(`thread-${randomBytes(8).toString("hex")}`);
}

/** A body of `size` pseudo-random bytes made as it is read, in 1 MiB chunks (never held whole); hash: what it carried. */
function generated(size: number, failAfter?: number): { body: Readable; hash: () => string; pulled: () => number } {
  const hash = createHash("sha256");
  let pulled = 0;
  async function* chunks() {
    while (pulled < size) {
      if (failAfter !== undefined && pulled >= failAfter) throw new Error("the sandbox went away");
      const chunk = randomBytes(Math.min(1 << 20, size - pulled));
      pulled += chunk.length;
      hash.update(chunk);
      yield chunk;
    }
  }
  return { body: Readable.from(chunks(), { objectMode: false }), hash: () => hash.digest("hex"), pulled: () => pulled };
}

async function digest(body: Readable): Promise<{ hash: string; bytes: number }> {
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const chunk of body) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { hash: hash.digest("hex"), bytes };
}

/** What every WorkspaceStore does; `makeStore` gives an empty store for each test. */
export function storeContract(name: string, makeStore: () => Promise<WorkspaceStore>): void {
  describe(`${name}: the workspace store contract`, () => {
    test("says where it stores", async () => {
      const store = await makeStore();
      expect(store.description).toMatch(/^(directory \/|s3:\/\/)/);
    });

    test("a put body comes back byte for byte: text, binary, empty, 20 MB", async () => {
      const store = await makeStore();
      const id = fresh();
      const binary = Buffer.from(Array.from({ length: 512 }, (_, index) => index % 256));
      const large = randomBytes(20 * 1024 * 1024);
      await store.put(id, "meta.json", Buffer.from('{"version":1}'));
      await store.put(id, "files/bytes.bin", binary);
      await store.put(id, "files/empty", Buffer.alloc(0));
      await store.put(id, "state/namespace.pkl", large);
      expect((await store.get(id, "meta.json"))?.toString()).toBe('{"version":1}');
      expect((await store.get(id, "files/bytes.bin"))?.equals(binary)).toBe(true);
      expect((await store.get(id, "files/empty"))?.length).toBe(0);
      const back = await store.get(id, "state/namespace.pkl");
      expect(back?.length).toBe(large.length);
      expect(back?.equals(large)).toBe(true);
    });

    test("a streamed put and get carry 23 MB (several S3 parts) byte for byte, and the size", async () => {
      const store = await makeStore();
      const id = fresh();
      const size = 23 * 1024 * 1024 + 123;
      const source = generated(size);
      await store.putStream(id, "files/big.bin", source.body, size);
      const back = await store.getStream(id, "files/big.bin");
      expect(back?.size).toBe(size);
      expect(await digest(back!.body)).toEqual({ hash: source.hash(), bytes: size });
      expect((await store.list(id)).map(({ name, size: bytes }) => ({ name, size: bytes }))).toEqual([{ name: "files/big.bin", size }]);
      // Small and empty bodies too, and what put wrote reads back as a stream.
      await store.putStream(id, "files/small.txt", Readable.from([Buffer.from("small")]), 5);
      await store.putStream(id, "files/empty", Readable.from([]), 0);
      await store.put(id, "meta.json", Buffer.from("{}"));
      expect((await store.get(id, "files/small.txt"))?.toString()).toBe("small");
      const empty = await store.getStream(id, "files/empty");
      expect(empty?.size).toBe(0);
      expect((await digest(empty!.body)).bytes).toBe(0);
      expect((await digest((await store.getStream(id, "meta.json"))!.body)).bytes).toBe(2);
    });

    test("a streamed put that fails midway, ends short or runs long fails and leaves the old object whole", async () => {
      const store = await makeStore();
      const id = fresh();
      await store.put(id, "files/x.bin", Buffer.from("old body"));
      const failing = generated(12 * 1024 * 1024, 7 * 1024 * 1024);
      await expect(store.putStream(id, "files/x.bin", failing.body, 12 * 1024 * 1024)).rejects.toThrow(/the sandbox went away/);
      await expect(store.putStream(id, "files/x.bin", generated(1000).body, 2000)).rejects.toThrow();
      await expect(store.putStream(id, "files/x.bin", generated(6 * 1024 * 1024).body, 1000)).rejects.toThrow();
      expect((await store.get(id, "files/x.bin"))?.toString()).toBe("old body");
      expect((await store.list(id)).map((object) => object.name)).toEqual(["files/x.bin"]);
      // A new object that failed is not there at all.
      await expect(store.putStream(id, "files/new.bin", generated(10, 0).body, 10)).rejects.toThrow(/the sandbox went away/);
      expect(await store.getStream(id, "files/new.bin")).toBeUndefined();
      expect(await store.listWorkspaces()).toEqual([id]);
    });

    test("streamed puts and gets refuse bad names and ids with BAD_NAME", async () => {
      const store = await makeStore();
      for (const bad of BAD_NAMES.slice(0, 8)) {
        expect((await rejection(store.putStream(fresh(), bad, Readable.from([Buffer.from("x")]), 1))).code, JSON.stringify(bad)).toBe("BAD_NAME");
        expect((await rejection(store.getStream(fresh(), bad))).code, JSON.stringify(bad)).toBe("BAD_NAME");
      }
      expect((await rejection(store.getStream(BAD_IDS[2] as string, "files/x"))).code).toBe("BAD_NAME");
      expect(await store.getStream(fresh(), "files/never")).toBeUndefined();
      expect(await store.listWorkspaces()).toEqual([]);
    });

    test("absent objects and workspaces read as nothing", async () => {
      const store = await makeStore();
      const id = fresh();
      expect(await store.get(id, "files/none.txt")).toBeUndefined();
      expect(await store.list(id)).toEqual([]);
      await store.put(id, "files/one.txt", Buffer.from("1"));
      expect(await store.get(id, "files/two.txt")).toBeUndefined();
      expect(await store.get(id, "files/one.txt/below")).toBeUndefined();
      expect(await store.get(id, "files")).toBeUndefined(); // a folder is not an object
    });

    test("a put replaces the object whole", async () => {
      const store = await makeStore();
      const id = fresh();
      await store.put(id, "files/x.txt", Buffer.from("a much longer first version"));
      await store.put(id, "files/x.txt", Buffer.from("second"));
      expect((await store.get(id, "files/x.txt"))?.toString()).toBe("second");
      expect((await store.list(id)).map(({ name, size }) => ({ name, size }))).toEqual([{ name: "files/x.txt", size: 6 }]);
    });

    test("list gives every object, sorted, with sizes and times", async () => {
      const store = await makeStore();
      const id = fresh();
      const before = Date.now() - 5000;
      const bodies: Record<string, string> = {
        "state/namespace.pkl": "pickle",
        "files/sub/dir/x.txt": "xx",
        "meta.json": "{}",
        "files/b.txt": "bbb",
        "files/a.txt": "a",
        "files/A.txt": "AAAA",
      };
      for (const [objectName, body] of Object.entries(bodies)) await store.put(id, objectName, Buffer.from(body));
      const listed = await store.list(id);
      expect(listed.map((object) => object.name)).toEqual(["files/A.txt", "files/a.txt", "files/b.txt", "files/sub/dir/x.txt", "meta.json", "state/namespace.pkl"]);
      for (const object of listed) {
        expect(object.size).toBe(Buffer.byteLength(bodies[object.name] ?? ""));
        expect(object.modifiedAt).toBeInstanceOf(Date);
        expect(object.modifiedAt.getTime()).toBeGreaterThan(before);
        expect(object.modifiedAt.getTime()).toBeLessThan(Date.now() + 5000);
      }
    });

    test("delete removes the named objects; absent names and an empty list are fine", async () => {
      const store = await makeStore();
      const id = fresh();
      for (const objectName of ["files/a.txt", "files/sub/b.txt", "files/sub/c.txt", "meta.json"]) await store.put(id, objectName, Buffer.from(objectName));
      await store.delete(id, ["files/a.txt", "files/sub/b.txt", "files/never.txt", "nothing/here/at/all"]);
      await store.delete(id, []);
      expect((await store.list(id)).map((object) => object.name)).toEqual(["files/sub/c.txt", "meta.json"]);
      await store.delete(id, ["files/sub/c.txt", "meta.json"]);
      expect(await store.list(id)).toEqual([]);
      expect(await store.listWorkspaces()).not.toContain(id);
      await store.delete(fresh(), ["files/a.txt"]); // a workspace that never was
    });

    test("deleteWorkspace removes everything of it and nothing of another", async () => {
      const store = await makeStore();
      const [gone, kept] = [fresh(), fresh()];
      for (const objectName of ["files/a.txt", "files/deep/down/b.txt", "state/namespace.pkl"]) {
        await store.put(gone, objectName, Buffer.from("gone"));
        await store.put(kept, objectName, Buffer.from("kept"));
      }
      await store.deleteWorkspace(gone);
      expect(await store.list(gone)).toEqual([]);
      expect(await store.get(gone, "files/a.txt")).toBeUndefined();
      expect((await store.list(kept)).length).toBe(3);
      expect(await store.listWorkspaces()).toEqual([kept]);
      await store.deleteWorkspace(gone); // already gone
      await store.deleteWorkspace(fresh()); // never was
    });

    test("listWorkspaces names the workspaces having objects, sorted", async () => {
      const store = await makeStore();
      expect(await store.listWorkspaces()).toEqual([]);
      const ids = [fresh(), fresh(), fresh()];
      for (const id of ids) await store.put(id, "files/deep/only/in/a/folder.txt", Buffer.from(id));
      await store.put(ids[0] as string, "meta.json", Buffer.from("{}"));
      expect(await store.listWorkspaces()).toEqual([...ids].sort());
    });

    test("two workspaces never see each other's objects", async () => {
      const store = await makeStore();
      const [one, two] = [fresh(), fresh()];
      await store.put(one, "files/same.txt", Buffer.from("one"));
      await store.put(two, "files/same.txt", Buffer.from("two"));
      await store.put(one, "files/only-one.txt", Buffer.from("1"));
      expect((await store.get(one, "files/same.txt"))?.toString()).toBe("one");
      expect((await store.get(two, "files/same.txt"))?.toString()).toBe("two");
      expect(await store.get(two, "files/only-one.txt")).toBeUndefined();
      expect((await store.list(two)).map((object) => object.name)).toEqual(["files/same.txt"]);
      await store.delete(two, ["files/only-one.txt", "files/same.txt"]);
      expect((await store.list(one)).map((object) => object.name)).toEqual(["files/only-one.txt", "files/same.txt"]);
    });

    test("bad object names are refused with BAD_NAME and write nothing", async () => {
      const store = await makeStore();
      const id = fresh();
      for (const bad of BAD_NAMES) {
        expect((await rejection(store.put(id, bad, Buffer.from("x")))).code, JSON.stringify(bad)).toBe("BAD_NAME");
        expect((await rejection(store.get(id, bad))).code, JSON.stringify(bad)).toBe("BAD_NAME");
        expect((await rejection(store.delete(id, ["files/fine.txt", bad]))).code, JSON.stringify(bad)).toBe("BAD_NAME");
      }
      expect(await store.list(id)).toEqual([]);
      expect(await store.listWorkspaces()).toEqual([]);
    });

    test("a delete with one bad name deletes nothing", async () => {
      const store = await makeStore();
      const id = fresh();
      await store.put(id, "files/fine.txt", Buffer.from("x"));
      expect((await rejection(store.delete(id, ["files/fine.txt", "../x"]))).code).toBe("BAD_NAME");
      expect((await store.list(id)).map((object) => object.name)).toEqual(["files/fine.txt"]);
    });

    test("bad workspace ids are refused with BAD_NAME by every operation", async () => {
      const store = await makeStore();
      for (const bad of BAD_IDS) {
        const operations = [
          store.put(bad, "files/x.txt", Buffer.from("x")),
          store.get(bad, "files/x.txt"),
          store.list(bad),
          store.delete(bad, ["files/x.txt"]),
          store.deleteWorkspace(bad),
        ];
        for (const operation of operations) expect((await rejection(operation)).code, JSON.stringify(bad)).toBe("BAD_NAME");
      }
      expect(await store.listWorkspaces()).toEqual([]);
    });

    test("names with spaces, Unicode and URL-special characters work", async () => {
      const store = await makeStore();
      const id = fresh();
      for (const odd of ODD_NAMES) await store.put(id, odd, Buffer.from(`body of ${odd}`));
      const listed = (await store.list(id)).map((object) => object.name);
      expect([...listed].sort()).toEqual([...ODD_NAMES].sort());
      for (const odd of ODD_NAMES) expect((await store.get(id, odd))?.toString(), odd).toBe(`body of ${odd}`);
      await store.delete(id, ODD_NAMES);
      expect(await store.list(id)).toEqual([]);
    });

    test("a file replaced by a folder of the same name (put the new tree, then delete the old)", async () => {
      const store = await makeStore();
      const id = fresh();
      await store.put(id, "files/out", Buffer.from("was a file"));
      await store.put(id, "files/out/part-1.csv", Buffer.from("1"));
      await store.put(id, "files/out/deeper/part-2.csv", Buffer.from("2"));
      await store.delete(id, ["files/out"]);
      expect((await store.list(id)).map((object) => object.name)).toEqual(["files/out/deeper/part-2.csv", "files/out/part-1.csv"]);
      expect((await store.get(id, "files/out/part-1.csv"))?.toString()).toBe("1");
      expect(await store.get(id, "files/out")).toBeUndefined();
    });

    test("a folder replaced by a file of the same name (put the new tree, then delete the old)", async () => {
      const store = await makeStore();
      const id = fresh();
      await store.put(id, "files/out/part-1.csv", Buffer.from("1"));
      await store.put(id, "files/out/deeper/part-2.csv", Buffer.from("2"));
      await store.put(id, "files/out", Buffer.from("now a file"));
      await store.delete(id, ["files/out/part-1.csv", "files/out/deeper/part-2.csv"]);
      expect((await store.list(id)).map((object) => object.name)).toEqual(["files/out"]);
      expect((await store.get(id, "files/out"))?.toString()).toBe("now a file");
    });

    test("the same changes the other way round (delete the old, then put the new)", async () => {
      const store = await makeStore();
      const id = fresh();
      await store.put(id, "files/x", Buffer.from("file"));
      await store.delete(id, ["files/x"]);
      await store.put(id, "files/x/y", Buffer.from("in a folder"));
      await store.delete(id, ["files/x/y"]);
      await store.put(id, "files/x", Buffer.from("file again"));
      expect((await store.list(id)).map((object) => object.name)).toEqual(["files/x"]);
      expect((await store.get(id, "files/x"))?.toString()).toBe("file again");
    });

    test("a workspace of 1100 objects lists and deletes whole (past one page of 1000)", async () => {
      const store = await makeStore();
      const id = fresh();
      const names = Array.from({ length: 1100 }, (_, index) => `files/${index % 7}/object-${index}.txt`);
      for (let start = 0; start < names.length; start += 50) {
        await Promise.all(names.slice(start, start + 50).map((objectName) => store.put(id, objectName, Buffer.from(objectName))));
      }
      const listed = await store.list(id);
      expect(listed.length).toBe(1100);
      expect(new Set(listed.map((object) => object.name))).toEqual(new Set(names));
      const sorted = listed.map((object) => object.name);
      expect(sorted).toEqual([...sorted].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
      await store.deleteWorkspace(id);
      expect(await store.list(id)).toEqual([]);
      expect(await store.listWorkspaces()).toEqual([]);
    });

    test("check resolves on a usable store", async () => {
      const store = await makeStore();
      await store.check();
      expect(await store.listWorkspaces()).toEqual([]); // check leaves nothing that counts
    });
  });
}
