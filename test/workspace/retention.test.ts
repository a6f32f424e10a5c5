import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { createLogger } from "../../src/log.js";
import { DirectoryStore } from "../../src/workspace/directory-store.js";
import { ThreadWorkspaces } from "../../src/workspace/thread-workspaces.js";
import { workspaceIdFor } from "../../src/workspace/workspace-id.js";
import { META_OBJECT, newMeta } from "../../src/workspace/workspace-meta.js";

const scratch = await mkdtemp(path.join(tmpdir(), "codebot-retention-"));
afterAll(() => rm(scratch, { recursive: true, force: true }));

const DAY = 86_400_000;

describe("workspace retention", () => {
  test("prune deletes this deployment's workspaces unused past the retention and leaves the rest", async () => {
    const store = new DirectoryStore(path.join(scratch, "store"));
    const started = Date.now();
    let now = new Date(started);
    const workspaces = new ThreadWorkspaces({ store, namespace: "prod", maxBytes: 1 << 20, maxStateBytes: 1 << 20, maxFileBytes: 1 << 20, maxFiles: 100, retentionDays: 30, log: createLogger("silent"), now: () => now });
    const put = async (namespace: string, thread: string, daysAgo: number) => {
      const id = workspaceIdFor(`${namespace}/${thread}`);
      await store.put(id, "files/a.txt", Buffer.from("a"));
      await store.put(id, META_OBJECT, Buffer.from(JSON.stringify({ ...newMeta(namespace, thread, new Date(started - daysAgo * DAY)), files: { "a.txt": 1 } })));
      return id;
    };
    await put("prod", "old-thread", 31);
    const recent = await put("prod", "recent-thread", 29);
    const otherDeployment = await put("staging", "old-thread", 90);
    const noMeta = workspaceIdFor("prod/crashed-before-meta");
    await store.put(noMeta, "files/b.txt", Buffer.from("b"));

    const listed = await workspaces.list();
    expect(listed.map((workspace) => workspace.sessionId)).toEqual(["recent-thread", "old-thread"]);
    expect(listed[0]?.expiresAt.getTime()).toBe(started - 29 * DAY + 30 * DAY);

    expect(await workspaces.prune()).toBe(1); // the old one; the meta-less one is too new to be a leftover
    expect((await workspaces.list()).map((workspace) => workspace.sessionId)).toEqual(["recent-thread"]);
    expect(new Set(await store.listWorkspaces())).toEqual(new Set([recent, otherDeployment, noMeta]));

    // A month later (an injected clock): the recent one is past its retention, and the meta-less leftover is old enough.
    now = new Date(started + 31 * DAY);
    expect(await workspaces.prune()).toBe(2);
    expect(await store.listWorkspaces()).toEqual([otherDeployment]);
  });
});
