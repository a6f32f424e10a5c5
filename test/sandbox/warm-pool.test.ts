import { randomBytes } from "node:crypto";
import Docker from "dockerode";
import { afterAll, describe, expect, test } from "vitest";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/log.js";
import { createSandboxManager } from "../../src/sandbox/create-sandbox-manager.js";
import { testNamespace } from "../helpers/sandbox-fixture.js";

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
  test("a new session claims a warm container, the pool refills, and a rebuilt image retires old members", async () => {
    await docker.getImage(base).tag({ repo: "codebot-sandbox", tag });
    await manager.warmUp();
    const [warm] = await poolMembers();
    expect(warm).toBeDefined();
    const session = await manager.session("claims-warm");
    expect(session.container.id).toBe(warm!.Id);
    await manager.warmUp();
    const refilled = await poolMembers();
    expect(refilled).toHaveLength(1);

    // "Rebuild" the image: a new image id under the same tag.
    const builder = await docker.createContainer({ Image: base, NetworkDisabled: true });
    const rebuilt = await builder.commit({ repo: "codebot-sandbox", tag, changes: "LABEL rebuilt=1" });
    await builder.remove({ force: true });
    const fresh = await manager.session("after-rebuild");
    expect(fresh.container.id).not.toBe(refilled[0]!.Id);
    expect((await fresh.container.inspect()).Image).toBe(rebuilt.Id);
    expect((await fresh.execute("print('runs on the new image')")).stdout).toBe("runs on the new image\n");
  });
});
