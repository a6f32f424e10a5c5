import Docker from "dockerode";
import { describe, expect, test } from "vitest";
import { useSandboxes } from "../support/sandbox-fixture.js";

// An engine restart kills sessions without their auto-removal: stopped containers and their
// /mnt/data volumes stay behind. Workers remove them (at start, then every minute).
const { manager, config } = useSandboxes({ SANDBOX_POOL_SIZE: "0" });
const docker = new Docker();
const label = `codebot.namespace=${config.SANDBOX_NAMESPACE}`;

describe("leftovers of sessions that did not end normally", () => {
  test("stopped containers and orphaned volumes of the namespace are removed; live sessions are kept", async () => {
    await manager.execute("alive", "x = 1");
    const dead = await docker.createContainer({ Image: config.SANDBOX_IMAGE, Labels: { "codebot.namespace": config.SANDBOX_NAMESPACE }, Entrypoint: ["true"] });
    const orphan = await docker.createVolume({ Labels: { "codebot.namespace": config.SANDBOX_NAMESPACE } });
    const other = await docker.createVolume({ Labels: { "codebot.namespace": "someone-else" } });
    try {
      await manager.tidy();
      const left = await docker.listContainers({ all: true, filters: { label: [label] } });
      expect(left.map((info) => info.Id)).not.toContain(dead.id);
      const volumes = (await docker.listVolumes({ filters: { label: [label] } })).Volumes ?? [];
      expect(volumes.map((volume) => volume.Name)).not.toContain(orphan.name);
      expect((await manager.execute("alive", "x")).result).toBe("1");
      await expect(docker.getVolume(other.name).inspect()).resolves.toBeTruthy();
    } finally {
      await docker.getVolume(other.name).remove().catch(() => undefined);
    }
  });
});
