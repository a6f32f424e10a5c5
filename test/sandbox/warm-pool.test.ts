import { randomBytes } from "node:crypto";
import Docker from "dockerode";
import { afterAll, describe, expect, test } from "vitest";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/log.js";
import { createSandboxManager } from "../../src/sandbox/docker/create-sandbox-manager.js";
import { testNamespace } from "../support/sandbox-fixture.js";

const docker = new Docker();
const base = loadConfig(process.env).SANDBOX_IMAGE;
const tag = `pool-test-${randomBytes(3).toString("hex")}`;
const image = `codebot-sandbox:${tag}`;
const config = loadConfig({ ...process.env, SANDBOX_IMAGE: image, SANDBOX_NAMESPACE: testNamespace(), SANDBOX_POOL_SIZE: "1" });
const manager = createSandboxManager(config, createLogger("silent"));

afterAll(async () => {
  await manager.close();
  await manager.destroyAll();
  await docker.getImage(image).remove({ force: true }).catch(() => undefined);
});

async function poolMembers(): Promise<Docker.ContainerInfo[]> {
  const list = await docker.listContainers({ filters: { label: [`codebot.namespace=${config.SANDBOX_NAMESPACE}`] } });
  return list.filter((info) => info.Names.some((name) => name.includes("-pool-")));
}

describe("the warm pool", () => {
  test("sessions opened at once, by two processes, never share a pooled container", async () => {
    // Regression: two concurrent Docker renames of one pool container both succeed, so two threads
    // once got the same Python session. Claims now go through the container's supervisor.
    const other = createSandboxManager(config, createLogger("silent"));
    await docker.getImage(base).tag({ repo: "codebot-sandbox", tag });
    await manager.warmUp();
    const ids = ["race-a", "race-b", "race-c", "race-d"];
    const sessions = await Promise.all(ids.map((id, i) => (i % 2 ? other : manager).session(id)));
    expect(new Set(sessions.map((session) => session.sandboxId)).size).toBe(ids.length);
    await Promise.all(sessions.map((session, i) => session.execute(`owner = ${i}`)));
    const owners = await Promise.all(sessions.map((session) => session.execute("owner")));
    expect(owners.map((result) => result.result)).toEqual(["0", "1", "2", "3"]);
    await other.close();
  });

  test("a new session claims a warm container, the pool refills, and a rebuilt image retires old members", async () => {
    await docker.getImage(base).tag({ repo: "codebot-sandbox", tag });
    await manager.warmUp();
    const warm = (await poolMembers()).map((member) => member.Id);
    expect(warm.length).toBeGreaterThan(0);
    const session = await manager.session("claims-warm");
    expect(warm).toContain(session.sandboxId);
    await manager.warmUp();
    const refilled = await poolMembers();
    expect(refilled.length).toBeGreaterThan(0);
    expect(refilled.map((member) => member.Id)).not.toContain(session.sandboxId);

    // "Rebuild" the image: a new image id under the same tag.
    const builder = await docker.createContainer({ Image: base, NetworkDisabled: true });
    const rebuilt = await builder.commit({ repo: "codebot-sandbox", tag, changes: "LABEL rebuilt=1" });
    await builder.remove({ force: true });
    const fresh = await manager.session("after-rebuild");
    expect(refilled.map((member) => member.Id)).not.toContain(fresh.sandboxId);
    expect((await docker.getContainer(fresh.sandboxId).inspect()).Image).toBe(rebuilt.Id);
    expect((await fresh.execute("print('runs on the new image')")).stdout).toBe("runs on the new image\n");
  });

  test("a warm container started under another runtime or with other limits is not used, but retired", async () => {
    await docker.getImage(base).tag({ repo: "codebot-sandbox", tag });
    await manager.warmUp();
    const before = (await poolMembers()).map((member) => member.Id);
    expect(before.length).toBeGreaterThan(0);
    // The same namespace and image, with another memory limit: a worker restarted with new settings.
    const changed = createSandboxManager({ ...config, SANDBOX_MEMORY_MB: config.SANDBOX_MEMORY_MB + 64 }, createLogger("silent"));
    const session = await changed.session("new-settings");
    expect(before).not.toContain(session.sandboxId);
    expect((await docker.getContainer(session.sandboxId).inspect()).HostConfig.Memory).toBeGreaterThanOrEqual((config.SANDBOX_MEMORY_MB + 64) * 1024 * 1024);
    await changed.warmUp();
    let retired = false;
    for (let i = 0; i < 50 && !retired; i++) {
      retired = !(await poolMembers()).some((member) => before.includes(member.Id));
      if (!retired) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(retired).toBe(true);
    await changed.close();
  });
});
