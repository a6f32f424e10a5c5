import Docker from "dockerode";
import { describe, expect, test } from "vitest";
import { useSandboxes } from "../support/sandbox-fixture.js";

// A turn that arrives as its session ends (its idle timeout) or finds its sandbox unresponsive gets
// a fresh session within seconds, not a two-minute wait on a container that is going away.
const { manager } = useSandboxes({ SANDBOX_IDLE_TIMEOUT_SECONDS: "10", SANDBOX_POOL_SIZE: "0" });
const docker = new Docker();

async function timed<T>(task: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await task();
  return { value, ms: performance.now() - started };
}

describe("the idle boundary", () => {
  test("a sandbox that no longer answers (paused, as if ending) is replaced within seconds", async () => {
    await manager.execute("frozen", "x = 1");
    const [info] = (await manager.listSessions()).filter((session) => session.sessionId === "frozen");
    await docker.getContainer(info?.sandboxId ?? "missing").pause();
    await manager.close(); // a fresh process's view: it must attach again
    const { value, ms } = await timed(() => manager.execute("frozen", "'x' in globals()"));
    expect(value.result).toBe("False");
    expect(ms).toBeLessThan(10_000 + 8_000);
  });

  test("turns sent right at the idle timeout take a few seconds at most", async () => {
    for (const wait of [9_800, 10_100]) {
      await manager.execute("boundary", "y = 1");
      await new Promise((resolve) => setTimeout(resolve, wait));
      const { value, ms } = await timed(() => manager.execute("boundary", "print('ok')"));
      expect(value.stdout).toBe("ok\n");
      expect(ms).toBeLessThan(10_000);
    }
  });
});
