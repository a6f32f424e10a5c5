import { createHash } from "node:crypto";
import type { ContainerCreateOptions } from "dockerode";
import type { SandboxLimits } from "../sandbox-limits.js";
import { DATA_DIR } from "../sandbox-paths.js";
import { seccompProfile } from "./seccomp-profile.js";

export const SANDBOX_UID = 1000;
/**
 * What the supervisor (PID 1, root inside the container) keeps: starting the session as uid 1000,
 * ending what the code leaves behind, listing the user's files, and emptying the session's
 * capability bounding set. The session itself has no capabilities at all.
 */
export const SUPERVISOR_CAPABILITIES = ["SETUID", "SETGID", "SETPCAP", "KILL", "DAC_READ_SEARCH"];
export const LABEL_NAMESPACE = "codebot.namespace";
/** The runtime and limits a sandbox was started with, hashed: a warm sandbox of other settings is not used. */
export const LABEL_SPEC = "codebot.spec";

export function specKey(limits: SandboxLimits, runtime: string | undefined): string {
  return createHash("sha256").update(JSON.stringify({ limits, runtime: runtime ?? "" })).digest("hex").slice(0, 16);
}
/**
 * Under gVisor the sandbox's whole memory (the code's and gVisor's own) is one host process, so the
 * engine's memory limit would end the whole sandbox, files and all, when the code runs out. There
 * the code's limits are enforced inside (RLIMIT_AS over the warm session, RLIMIT_NPROC: a
 * MemoryError or a refused fork instead), and the container gets this much more for gVisor itself.
 */
export const GVISOR_MEMORY_HEADROOM = 512 * 1024 * 1024;

export const GVISOR_MIN_PIDS = 4096;

export function isGvisor(runtime: string | undefined): boolean {
  return runtime !== undefined && /runsc|gvisor/i.test(runtime);
}

export interface ContainerSpecInput {
  name: string;
  image: string;
  namespace: string;
  limits: SandboxLimits;
  runtime?: string;
}

/**
 * The hardened container every sandbox runs in. Nothing from the host's environment, no network,
 * no host mounts, codebot's own seccomp profile; the supervisor keeps a few capabilities and the
 * user's code runs as uid 1000 with none. /mnt/data is a size-capped tmpfs volume that outlives
 * restarts of the Python process and is removed with the container; it, /tmp and /dev/shm are
 * noexec, so nothing the code writes can be run as a binary (scripts still run by `python3 file`).
 */
export function containerSpec({ name, image, namespace, limits, runtime }: ContainerSpecInput): ContainerCreateOptions {
  const threads = String(Math.max(1, Math.ceil(limits.cpus)));
  const diskMb = Math.floor(limits.diskBytes / (1024 * 1024));
  const tmpMb = Math.floor(limits.tmpBytes / (1024 * 1024));
  const gvisor = isGvisor(runtime);
  const memory = limits.memoryBytes + (gvisor ? GVISOR_MEMORY_HEADROOM : 0);
  return {
    name,
    Image: image,
    Cmd: [
      "--idle-timeout", String(limits.idleTimeoutSeconds),
      "--cpu-budget", String(limits.cpuBudgetSeconds),
      "--max-lifetime", String(limits.maxLifetimeSeconds),
      ...(gvisor ? ["--gvisor", "--memory-bytes", String(limits.memoryBytes), "--max-processes", String(limits.pids)] : []),
    ],
    Labels: { [LABEL_NAMESPACE]: namespace, [LABEL_SPEC]: specKey(limits, runtime), "codebot.role": "sandbox", "codebot.runtime": runtime ?? "default" },
    Env: [`OMP_NUM_THREADS=${threads}`, `OPENBLAS_NUM_THREADS=${threads}`, `MKL_NUM_THREADS=${threads}`],
    User: "0:0", // the supervisor; it starts the session as SANDBOX_UID
    WorkingDir: DATA_DIR,
    Hostname: "sandbox",
    NetworkDisabled: true,
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    OpenStdin: true,
    StdinOnce: false,
    Tty: false,
    HostConfig: {
      NetworkMode: "none",
      ReadonlyRootfs: true,
      Tmpfs: { "/tmp": `rw,nosuid,nodev,noexec,size=${tmpMb}m,mode=1777` },
      ShmSize: limits.shmBytes,
      Mounts: [
        {
          Type: "volume",
          Source: "", // anonymous: removed with the container
          Target: DATA_DIR,
          VolumeOptions: {
            NoCopy: false,
            Labels: { [LABEL_NAMESPACE]: namespace }, // found again if an engine restart orphans it
            DriverConfig: {
              Name: "local",
              Options: {
                type: "tmpfs",
                device: "tmpfs",
                o: `size=${diskMb}m,uid=${SANDBOX_UID},gid=${SANDBOX_UID},mode=0700,nosuid,nodev,noexec`,
              },
            },
          },
        },
      ],
      CapDrop: ["ALL"],
      CapAdd: SUPERVISOR_CAPABILITIES,
      SecurityOpt: ["no-new-privileges", `seccomp=${JSON.stringify(seccompProfile({ gvisor }))}`],
      Privileged: false,
      // Under gVisor each process of the code costs several host threads of gVisor's own (measured:
      // 128 processes need more than 1,024), so the host cap only bounds gVisor; the code's own cap
      // is RLIMIT_NPROC inside.
      PidsLimit: gvisor ? Math.max(GVISOR_MIN_PIDS, limits.pids * 32) : limits.pids,
      Memory: memory,
      MemorySwap: memory,
      NanoCpus: Math.round(limits.cpus * 1e9),
      Ulimits: [
        { Name: "nofile", Soft: limits.openFiles, Hard: limits.openFiles },
        { Name: "fsize", Soft: limits.diskBytes, Hard: limits.diskBytes },
        { Name: "core", Soft: 0, Hard: 0 },
      ],
      IpcMode: "private",
      AutoRemove: true,
      LogConfig: { Type: "none", Config: {} },
      ...(runtime ? { Runtime: runtime } : {}),
    },
  };
}
