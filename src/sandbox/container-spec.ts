import type { ContainerCreateOptions } from "dockerode";
import type { SandboxLimits } from "./sandbox-limits.js";

export const SANDBOX_UID = 1000;
export const DATA_DIR = "/mnt/data";
export const LABEL_NAMESPACE = "codebot.namespace";

export interface ContainerSpecInput {
  name: string;
  image: string;
  namespace: string;
  limits: SandboxLimits;
  runtime?: string;
}

/**
 * The hardened container every sandbox runs in. Nothing from the host's environment, no network,
 * no capabilities, no host mounts; /mnt/data is a size-capped tmpfs volume that outlives restarts
 * of the Python process and is removed with the container.
 */
export function containerSpec({ name, image, namespace, limits, runtime }: ContainerSpecInput): ContainerCreateOptions {
  const threads = String(Math.max(1, Math.ceil(limits.cpus)));
  const diskMb = Math.floor(limits.diskBytes / (1024 * 1024));
  const tmpMb = Math.floor(limits.tmpBytes / (1024 * 1024));
  return {
    name,
    Image: image,
    Cmd: ["--idle-timeout", String(limits.idleTimeoutSeconds)],
    Labels: { [LABEL_NAMESPACE]: namespace, "codebot.role": "sandbox" },
    Env: [`OMP_NUM_THREADS=${threads}`, `OPENBLAS_NUM_THREADS=${threads}`, `MKL_NUM_THREADS=${threads}`],
    User: `${SANDBOX_UID}:${SANDBOX_UID}`,
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
      Tmpfs: { "/tmp": `rw,nosuid,nodev,size=${tmpMb}m,mode=1777` },
      Mounts: [
        {
          Type: "volume",
          Source: "", // anonymous: removed with the container
          Target: DATA_DIR,
          VolumeOptions: {
            NoCopy: false,
            Labels: {},
            DriverConfig: {
              Name: "local",
              Options: {
                type: "tmpfs",
                device: "tmpfs",
                o: `size=${diskMb}m,uid=${SANDBOX_UID},gid=${SANDBOX_UID},mode=0700,nosuid,nodev`,
              },
            },
          },
        },
      ],
      CapDrop: ["ALL"],
      SecurityOpt: ["no-new-privileges"],
      Privileged: false,
      PidsLimit: limits.pids,
      Memory: limits.memoryBytes,
      MemorySwap: limits.memoryBytes,
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
