import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { DirectoryStore } from "../../src/workspace/directory-store.js";
import { workspaceIdFor } from "../../src/workspace/workspace-id.js";
import { WorkspaceStoreError } from "../../src/workspace/workspace-store-error.js";
import { storeContract } from "./store-contract.js";

const scratch = await mkdtemp(path.join(tmpdir(), "codebot-directory-store-"));
afterAll(() => rm(scratch, { recursive: true, force: true }));

let stores = 0;
/** A fresh root that doesn't exist yet (the store makes it), one level below a fresh folder. */
function freshRoot(): string {
  return path.join(scratch, `store-${++stores}`, "workspaces");
}

storeContract("directory store", async () => new DirectoryStore(freshRoot()));

async function failure(promise: Promise<unknown>): Promise<WorkspaceStoreError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(WorkspaceStoreError);
  return error as WorkspaceStoreError;
}

describe("directory store on the host", () => {
  test("lays objects out as plain files under <root>/<workspaceId>/, the root made with mode 0700", async () => {
    const root = freshRoot();
    const store = new DirectoryStore(root);
    expect(store.description).toBe(`directory ${root}`);
    const id = workspaceIdFor("slack:T1:C1:1700000000.000100");
    await store.put(id, "files/report 1.csv", Buffer.from("a,b\n1,2\n"));
    expect(await readFile(path.join(root, id, "files", "report 1.csv"), "utf8")).toBe("a,b\n1,2\n");
    expect((await stat(root)).mode & 0o777).toBe(0o700);
    expect((await stat(path.join(root, id))).mode & 0o777).toBe(0o700);
    expect((await stat(path.join(root, id, "files", "report 1.csv"))).mode & 0o777).toBe(0o600);
  });

  test("a relative root is resolved from the working directory", () => {
    expect(new DirectoryStore("some/where").description).toBe(`directory ${path.resolve("some/where")}`);
  });

  test("deletes remove folders left empty, up to the workspace's folder", async () => {
    const root = freshRoot();
    const store = new DirectoryStore(root);
    const id = workspaceIdFor("t");
    await store.put(id, "files/a/b/c/deep.txt", Buffer.from("x"));
    await store.put(id, "files/a/kept.txt", Buffer.from("y"));
    await store.delete(id, ["files/a/b/c/deep.txt"]);
    expect(existsSync(path.join(root, id, "files", "a", "b"))).toBe(false);
    expect(await readdir(path.join(root, id, "files", "a"))).toEqual(["kept.txt"]);
    await store.delete(id, ["files/a/kept.txt"]);
    expect(existsSync(path.join(root, id, "files"))).toBe(false);
    expect(existsSync(path.join(root, id))).toBe(true);
  });

  test("temporary files never show in list or listWorkspaces, even while a put is under way", async () => {
    const root = freshRoot();
    const store = new DirectoryStore(root);
    const [id, other] = [workspaceIdFor("busy"), workspaceIdFor("only-leftovers")];
    await store.put(id, "files/small.txt", Buffer.from("s"));
    // What a crash in the middle of a put leaves: a temporary file beside the object.
    await mkdir(path.join(root, other, "files"), { recursive: true });
    await writeFile(path.join(root, other, "files", ".codebot-partial\\0123456789abcdef"), "half");
    await writeFile(path.join(root, id, ".codebot-partial\\fedcba9876543210"), "half");
    const big = randomBytes(32 * 1024 * 1024);
    let done = false;
    const putting = store.put(id, "state/namespace.pkl", big).finally(() => (done = true));
    const seen = new Set<string>();
    let lists = 0;
    while (!done || lists < 3) {
      for (const object of await store.list(id)) seen.add(object.name);
      lists++;
    }
    await putting;
    expect([...seen].every((name) => name === "files/small.txt" || name === "state/namespace.pkl")).toBe(true);
    expect((await store.list(id)).map((object) => object.name)).toEqual(["files/small.txt", "state/namespace.pkl"]);
    expect(await store.list(other)).toEqual([]);
    expect(await store.listWorkspaces()).toEqual([id]);
    expect((await store.get(id, "state/namespace.pkl"))?.equals(big)).toBe(true);
  });

  test("anything in the root that isn't a workspace folder is not a workspace", async () => {
    const root = freshRoot();
    const store = new DirectoryStore(root);
    await mkdir(path.join(root, "not-a-workspace", "files"), { recursive: true });
    await writeFile(path.join(root, "not-a-workspace", "files", "x"), "x");
    await writeFile(path.join(root, workspaceIdFor("a file, not a folder")), "x");
    await store.check();
    expect(await store.listWorkspaces()).toEqual([]);
  });

  describe("a symlink planted in a workspace's folder is never followed", () => {
    async function planted() {
      const base = path.join(scratch, `symlinks-${++stores}`);
      const outside = path.join(base, "outside");
      await mkdir(outside, { recursive: true });
      await writeFile(path.join(outside, "secret.txt"), "outside secret");
      const root = path.join(base, "workspaces");
      const store = new DirectoryStore(root);
      const id = workspaceIdFor("attacked");
      await store.put(id, "files/real.txt", Buffer.from("real"));
      await symlink(outside, path.join(root, id, "files", "linked-dir"));
      await symlink(path.join(outside, "secret.txt"), path.join(root, id, "files", "linked-file"));
      return { store, root, id, outside };
    }

    async function outsideUntouched(outside: string) {
      expect(await readdir(outside)).toEqual(["secret.txt"]);
      expect(await readFile(path.join(outside, "secret.txt"), "utf8")).toBe("outside secret");
    }

    test("put through or onto a symlink is refused and writes nothing outside", async () => {
      const { store, id, outside } = await planted();
      expect((await failure(store.put(id, "files/linked-dir/planted.txt", Buffer.from("x")))).code).toBe("STORE_FAILED");
      expect((await failure(store.put(id, "files/linked-dir/sub/planted.txt", Buffer.from("x")))).code).toBe("STORE_FAILED");
      expect((await failure(store.put(id, "files/linked-file", Buffer.from("overwritten")))).code).toBe("STORE_FAILED");
      await outsideUntouched(outside);
    });

    test("get through or of a symlink is refused", async () => {
      const { store, id } = await planted();
      const refused = await failure(store.get(id, "files/linked-dir/secret.txt"));
      expect(refused.code).toBe("STORE_FAILED");
      expect(refused.message).toMatch(/symlink/);
      expect((await failure(store.get(id, "files/linked-file"))).code).toBe("STORE_FAILED");
    });

    test("list shows regular files only, never what a symlink points at", async () => {
      const { store, id } = await planted();
      expect((await store.list(id)).map((object) => object.name)).toEqual(["files/real.txt"]);
    });

    test("delete through or of a symlink is refused and removes nothing outside", async () => {
      const { store, id, outside } = await planted();
      expect((await failure(store.delete(id, ["files/linked-dir/secret.txt"]))).code).toBe("STORE_FAILED");
      expect((await failure(store.delete(id, ["files/linked-file"]))).code).toBe("STORE_FAILED");
      await outsideUntouched(outside);
    });

    test("deleteWorkspace removes the links, not what they point at", async () => {
      const { store, root, id, outside } = await planted();
      await store.deleteWorkspace(id);
      expect(existsSync(path.join(root, id))).toBe(false);
      await outsideUntouched(outside);
    });

    test("a workspace folder that is itself a symlink is refused", async () => {
      const { store, root, outside } = await planted();
      const id = workspaceIdFor("linked workspace");
      await symlink(outside, path.join(root, id));
      expect((await failure(store.put(id, "files/x.txt", Buffer.from("x")))).code).toBe("STORE_FAILED");
      expect((await failure(store.get(id, "secret.txt"))).code).toBe("STORE_FAILED");
      expect((await failure(store.list(id))).code).toBe("STORE_FAILED");
      expect((await failure(store.delete(id, ["secret.txt"]))).code).toBe("STORE_FAILED");
      expect(await store.listWorkspaces()).not.toContain(id);
      await store.deleteWorkspace(id); // removes the link only
      expect(existsSync(path.join(root, id))).toBe(false);
      await outsideUntouched(outside);
    });

    test("a root that is a symlink (an operator's choice) is used", async () => {
      const target = path.join(scratch, `real-root-${++stores}`);
      await mkdir(target);
      const linked = path.join(scratch, `linked-root-${stores}`);
      await symlink(target, linked);
      const store = new DirectoryStore(linked);
      const id = workspaceIdFor("t");
      await store.put(id, "meta.json", Buffer.from("{}"));
      expect(await readFile(path.join(target, id, "meta.json"), "utf8")).toBe("{}");
    });
  });

  describe("a store that is down", () => {
    test("a root that can't be made (under a regular file) is STORE_UNAVAILABLE, for check and every operation", async () => {
      const file = path.join(scratch, `a-file-${++stores}`);
      await writeFile(file, "not a folder");
      const store = new DirectoryStore(path.join(file, "workspaces"));
      const id = workspaceIdFor("t");
      const operations = [store.check(), store.put(id, "meta.json", Buffer.from("{}")), store.get(id, "meta.json"), store.list(id), store.listWorkspaces()];
      for (const operation of operations) operation.catch(() => undefined); // each is awaited below, in turn
      for (const operation of operations) {
        const error = await failure(operation);
        expect(error.code).toBe("STORE_UNAVAILABLE");
        expect(error.message).toContain(store.description);
      }
    });

    test("a root that is a regular file is STORE_UNAVAILABLE", async () => {
      const file = path.join(scratch, `a-file-${++stores}`);
      await writeFile(file, "not a folder");
      const error = await failure(new DirectoryStore(file).check());
      expect(error.code).toBe("STORE_UNAVAILABLE");
    });
  });
});
