import { describe, expect, test } from "vitest";
import { loadConfig } from "../../src/config.js";
import { containerSpec } from "../../src/sandbox/container-spec.js";
import { limitsFromConfig } from "../../src/sandbox/sandbox-limits.js";

describe("every sandbox container is hardened", () => {
  const config = loadConfig({ SANDBOX_MEMORY_MB: "512", SANDBOX_CPUS: "1.5", SANDBOX_DISK_MB: "64", OPENAI_API_KEY: "sk-secret" });
  const spec = containerSpec({ name: "n", image: "img", namespace: "codebot", limits: limitsFromConfig(config), runtime: "runsc" });
  const host = spec.HostConfig ?? {};

  test("no network, no capabilities, no privilege gain, read-only root, non-root user", () => {
    expect(host.NetworkMode).toBe("none");
    expect(spec.NetworkDisabled).toBe(true);
    expect(host.CapDrop).toEqual(["ALL"]);
    expect(host.SecurityOpt).toContain("no-new-privileges");
    expect(host.ReadonlyRootfs).toBe(true);
    expect(host.Privileged).toBe(false);
    expect(spec.User).toBe("1000:1000");
  });

  test("memory (swap equal to it), CPU, processes, files and disk are capped", () => {
    expect(host.Memory).toBe(512 * 1024 * 1024);
    expect(host.MemorySwap).toBe(host.Memory);
    expect(host.NanoCpus).toBe(1.5e9);
    expect(host.PidsLimit).toBe(128);
    expect(host.Ulimits).toEqual(
      expect.arrayContaining([
        { Name: "nofile", Soft: 1024, Hard: 1024 },
        { Name: "fsize", Soft: 64 * 1024 * 1024, Hard: 64 * 1024 * 1024 },
      ]),
    );
    expect(host.Mounts?.[0]?.VolumeOptions?.DriverConfig?.Options?.o).toMatch(/^size=64m,/);
    expect(host.Tmpfs?.["/tmp"]).toMatch(/size=64m/);
  });

  test("nothing of the host reaches it: no host mounts, no socket, no host environment", () => {
    expect(host.Binds).toBeUndefined();
    expect(host.Mounts?.every((mount) => mount.Type !== "bind")).toBe(true);
    expect(JSON.stringify(spec)).not.toContain("docker.sock");
    expect(JSON.stringify(spec)).not.toContain("sk-secret");
    expect(spec.Env?.every((entry) => /^(OMP|OPENBLAS|MKL)_NUM_THREADS=2$/.test(entry))).toBe(true);
  });

  test("the optional runtime (e.g. gVisor) is passed to Docker, and logs go nowhere", () => {
    expect(host.Runtime).toBe("runsc");
    expect(host.LogConfig?.Type).toBe("none");
    expect(host.AutoRemove).toBe(true);
  });
});
