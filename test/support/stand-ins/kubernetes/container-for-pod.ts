import { readFileSync } from "node:fs";
import { join, normalize } from "node:path";
import type { ContainerCreateOptions, MountSettings } from "dockerode";
import { parseQuantity } from "./quantity.js";

/** What a node of the stand-in is set up with, as a kubelet and its container runtime would be. */
export interface NodeSetup {
  /** RuntimeClass name → the engine's OCI runtime (its handler): gvisor → runsc. */
  runtimeClasses: Record<string, string>;
  /** The kubelet's --pod-max-pids: every pod's process cap (Kubernetes has no per-pod field). */
  podPidsLimit: number;
  /** The kubelet's seccomp root (/var/lib/kubelet/seccomp): Localhost profiles are read from here. */
  seccompRoot?: string;
  /** Labels every container of this stand-in carries (found and removed by them at the end). */
  containerLabels: Record<string, string>;
}

export class PodSpecError extends Error {}

const MEBIBYTE = 1024 * 1024;

/**
 * An emptyDir as a volume of the pod's container: an anonymous tmpfs volume (removed with the
 * container) of the sizeLimit, its root 0777 as the kubelet makes it (with fsGroup: that group,
 * setgid), nothing of the image's folder copied in, no noexec. (A tmpfs mount would take the image
 * folder's owner and mode instead.)
 */
function emptyDirMount(volume: any, target: string, fsGroup: number | undefined, labels: Record<string, string>): MountSettings {
  const size = volume.emptyDir?.sizeLimit !== undefined ? `size=${Math.floor(parseQuantity(volume.emptyDir.sizeLimit) / 1024)}k,` : "";
  const options = `${size}mode=${fsGroup === undefined ? "0777" : `2777,gid=${fsGroup}`}`;
  return { Type: "volume", Source: "", Target: target, VolumeOptions: { NoCopy: true, Labels: labels, DriverConfig: { Name: "local", Options: { type: "tmpfs", device: "tmpfs", o: options } } } };
}

function seccomp(pod: any, container: any, root: string | undefined): string[] {
  const profile = container.securityContext?.seccompProfile ?? pod.spec.securityContext?.seccompProfile;
  // Without a profile the kubelet runs the container Unconfined (unless its SeccompDefault is on).
  if (!profile || profile.type === "Unconfined") return ["seccomp=unconfined"];
  if (profile.type === "RuntimeDefault") return []; // the engine's default profile
  if (profile.type === "Localhost") {
    if (!root) throw new PodSpecError("this node has no seccomp root: Localhost profiles can't be loaded");
    const path = normalize(join(root, String(profile.localhostProfile ?? "")));
    if (!path.startsWith(normalize(root) + "/")) throw new PodSpecError(`localhostProfile ${JSON.stringify(profile.localhostProfile)} is outside the seccomp root`);
    return [`seccomp=${readFileSync(path, "utf8")}`];
  }
  throw new PodSpecError(`unknown seccompProfile type ${JSON.stringify(profile.type)}`);
}

/**
 * The container a kubelet would run for a pod's first container, on the local Docker engine: image,
 * command and args, env (with the service variables every pod gets), the limits (cpu and memory;
 * pids from the node), the pod's and container's securityContext (user, read-only root,
 * capabilities, no-new-privileges, seccomp), emptyDir volumes as tmpfs of their sizeLimit, the
 * RuntimeClass's handler as the engine's runtime, stdin held open for attach, and no network (the
 * stand-in has no pod network: every pod is as isolated as a default-deny NetworkPolicy makes it,
 * and more, as it can't reach the DNS either).
 */
export function containerForPod(pod: any, setup: NodeSetup, labels: Record<string, string>): ContainerCreateOptions {
  const container = pod.spec.containers[0];
  const podSecurity = pod.spec.securityContext ?? {};
  const security = container.securityContext ?? {};
  const runtimeClass = pod.spec.runtimeClassName;
  const runtime = runtimeClass ? setup.runtimeClasses[runtimeClass] : undefined;
  const limits = container.resources?.limits ?? {};
  const memory = limits.memory !== undefined ? Math.floor(parseQuantity(limits.memory)) : undefined;
  const cpus = limits.cpu !== undefined ? parseQuantity(limits.cpu) : undefined;
  const user = security.runAsUser ?? podSecurity.runAsUser;
  const group = security.runAsGroup ?? podSecurity.runAsGroup;
  if ((security.runAsNonRoot ?? podSecurity.runAsNonRoot) && user === 0) throw new PodSpecError("container's runAsUser breaks non-root policy");
  const volumes = new Map<string, any>((pod.spec.volumes ?? []).map((volume: any) => [volume.name, volume]));
  const mounts: MountSettings[] = [];
  let shmBytes: number | undefined;
  for (const mount of container.volumeMounts ?? []) {
    const volume = volumes.get(mount.name);
    if (!volume?.emptyDir) throw new PodSpecError(`volume ${JSON.stringify(mount.name)}: the stand-in mounts emptyDir volumes only`);
    if (mount.mountPath === "/dev/shm") shmBytes = volume.emptyDir.sizeLimit !== undefined ? parseQuantity(volume.emptyDir.sizeLimit) : 64 * MEBIBYTE;
    else mounts.push(emptyDirMount(volume, mount.mountPath, podSecurity.fsGroup, setup.containerLabels));
  }
  const env = [
    "KUBERNETES_SERVICE_HOST=10.96.0.1",
    "KUBERNETES_SERVICE_PORT=443",
    ...(container.env ?? []).filter((entry: any) => typeof entry?.value === "string").map((entry: any) => `${entry.name}=${entry.value}`),
  ];
  return {
    name: labels["codebot-standin.container"],
    Image: container.image,
    ...(container.command ? { Entrypoint: container.command } : {}),
    ...(container.args ? { Cmd: container.args } : {}),
    Env: env,
    Labels: labels,
    ...(user !== undefined ? { User: group !== undefined ? `${user}:${group}` : String(user) } : {}),
    ...(container.workingDir ? { WorkingDir: container.workingDir } : {}),
    Hostname: pod.metadata.name.slice(0, 63),
    NetworkDisabled: true,
    AttachStdin: Boolean(container.stdin),
    AttachStdout: true,
    AttachStderr: true,
    OpenStdin: Boolean(container.stdin),
    StdinOnce: Boolean(container.stdinOnce),
    Tty: Boolean(container.tty),
    ...(pod.spec.terminationGracePeriodSeconds !== undefined ? { StopTimeout: pod.spec.terminationGracePeriodSeconds } : {}),
    HostConfig: {
      NetworkMode: "none",
      ReadonlyRootfs: Boolean(security.readOnlyRootFilesystem),
      Mounts: mounts,
      ...(shmBytes !== undefined ? { ShmSize: shmBytes } : {}),
      CapDrop: security.capabilities?.drop ?? [],
      CapAdd: security.capabilities?.add ?? [],
      SecurityOpt: [...(security.allowPrivilegeEscalation === false ? ["no-new-privileges"] : []), ...seccomp(pod, container, setup.seccompRoot)],
      Privileged: Boolean(security.privileged),
      PidsLimit: setup.podPidsLimit,
      ...(memory !== undefined ? { Memory: memory, MemorySwap: memory } : {}),
      ...(cpus !== undefined ? { NanoCpus: Math.round(cpus * 1e9) } : {}),
      IpcMode: "private",
      LogConfig: { Type: "none", Config: {} },
      ...(runtime ? { Runtime: runtime } : {}),
    },
  };
}
