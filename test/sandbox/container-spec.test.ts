import { describe, expect, test } from "vitest";
import { loadConfig } from "../../src/config.js";
import { containerSpec, GVISOR_MEMORY_HEADROOM, SUPERVISOR_CAPABILITIES } from "../../src/sandbox/docker/container-spec.js";
import { limitsFromConfig } from "../../src/sandbox/sandbox-limits.js";

describe("every sandbox container is hardened", () => {
  const config = loadConfig({ SANDBOX_MEMORY_MB: "512", SANDBOX_CPUS: "1.5", SANDBOX_DISK_MB: "64", OPENAI_API_KEY: "sk-secret" });
  const spec = containerSpec({ name: "n", image: "img", namespace: "codebot", limits: limitsFromConfig(config), runtime: "runsc" });
  const host = spec.HostConfig ?? {};

  test("no network, only the supervisor's few capabilities, no privilege gain, read-only root, codebot's seccomp profile", () => {
    expect(host.NetworkMode).toBe("none");
    expect(spec.NetworkDisabled).toBe(true);
    expect(host.CapDrop).toEqual(["ALL"]);
    expect(host.CapAdd).toEqual(SUPERVISOR_CAPABILITIES);
    expect(SUPERVISOR_CAPABILITIES.sort()).toEqual(["DAC_READ_SEARCH", "KILL", "SETGID", "SETPCAP", "SETUID"]);
    expect(host.SecurityOpt).toContain("no-new-privileges");
    const seccomp = JSON.parse((host.SecurityOpt ?? []).find((option) => option.startsWith("seccomp="))?.slice(8) ?? "{}");
    expect(seccomp.syscalls[0].names).toEqual(expect.arrayContaining(["ptrace", "process_vm_readv", "process_vm_writev", "io_uring_setup", "unshare", "bpf"]));
    expect(host.ReadonlyRootfs).toBe(true);
    expect(host.Privileged).toBe(false);
    expect(spec.User).toBe("0:0"); // the supervisor; the code runs as uid 1000
  });

  test("clone3 is refused with ENOSYS under runc (the C library falls back to clone) and left to gVisor's kernel under runsc, which answers refusals with EPERM", () => {
    const clone3 = (runtime: string) => {
      const options = containerSpec({ name: "n", image: "img", namespace: "codebot", limits: limitsFromConfig(config), runtime }).HostConfig?.SecurityOpt ?? [];
      const profile = JSON.parse(options.find((option) => option.startsWith("seccomp="))?.slice(8) ?? "{}") as { syscalls: Array<{ names: string[]; errnoRet?: number }> };
      return profile.syscalls.find((rule) => rule.names.includes("clone3"));
    };
    expect(clone3("runc")?.errnoRet).toBe(38);
    expect(clone3("runsc")).toBeUndefined();
    expect(clone3("runsc-systrap")).toBeUndefined();
  });

  test("nowhere to stage a binary: /mnt/data, /tmp and a small /dev/shm are noexec", () => {
    expect(host.Mounts?.[0]?.VolumeOptions?.DriverConfig?.Options?.o).toMatch(/noexec/);
    expect(host.Tmpfs?.["/tmp"]).toMatch(/noexec/);
    expect(host.ShmSize).toBe(16 * 1024 * 1024);
  });

  test("under gVisor the code's memory and processes are capped inside; the engine's limits leave room for gVisor", () => {
    expect(host.Memory).toBe(512 * 1024 * 1024 + GVISOR_MEMORY_HEADROOM);
    expect(spec.Cmd).toEqual(expect.arrayContaining(["--gvisor", "--memory-bytes", String(512 * 1024 * 1024), "--max-processes", "128"]));
    const runc = containerSpec({ name: "n", image: "img", namespace: "codebot", limits: limitsFromConfig(config), runtime: "runc" });
    expect(runc.HostConfig?.Memory).toBe(512 * 1024 * 1024);
    expect(runc.HostConfig?.PidsLimit).toBe(128);
    expect(runc.Cmd).not.toContain("--gvisor");
  });

  test("memory (swap equal to it), CPU, processes, files and disk are capped", () => {
    expect(host.MemorySwap).toBe(host.Memory);
    expect(host.NanoCpus).toBe(1.5e9);
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
