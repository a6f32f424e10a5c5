import { createHash } from "node:crypto";
import type { V1Pod } from "@kubernetes/client-node";
import type { SandboxLimits } from "../sandbox-limits.js";
import { DATA_DIR } from "../sandbox-paths.js";
import { ANNOTATION_SESSION_NAME, APP, LABEL_APP, LABEL_INSTALLATION, LABEL_ROLE, LABEL_SESSION, LABEL_SPEC, sessionHash } from "./pod-labels.js";

/**
 * What the supervisor (root in the pod, uid 1000 for the code) keeps; the code itself has none
 * (Docker's container-spec.ts says why). DAC_OVERRIDE where Docker keeps DAC_READ_SEARCH (reading
 * the user's folders): Pod Security "baseline", which the sandbox namespace enforces, admits the one
 * and refuses the other.
 */
const SUPERVISOR_CAPABILITIES = ["SETUID", "SETGID", "SETPCAP", "KILL", "DAC_OVERRIDE"];
/** Under gVisor the code's memory is capped inside (RLIMIT_AS), and the pod gets this much more for gVisor itself. */
const GVISOR_MEMORY_HEADROOM = 512 * 1024 * 1024;
export const CONTAINER = "sandbox";

export interface PodSettings {
  installation: string;
  image: string;
  limits: SandboxLimits;
  /** SANDBOX_K8S_RUNTIME_CLASS (gvisor on a cluster with GKE Sandbox or runsc installed); none: the nodes' default runtime. */
  runtimeClass?: string;
  /** A Localhost seccomp profile (relative to the kubelet's seccomp root); none: RuntimeDefault. */
  seccompProfile?: string;
  /** The pod's grace period: a deleted (evicted, drained) pod stays this long, for its session to be saved. */
  graceSeconds: number;
}

export const isGvisor = (runtimeClass: string | undefined): boolean => runtimeClass !== undefined && /gvisor|runsc/i.test(runtimeClass);

export function specKey(settings: PodSettings): string {
  const { image, limits, runtimeClass, seccompProfile, graceSeconds } = settings;
  return createHash("sha256").update(JSON.stringify({ image, limits, runtimeClass: runtimeClass ?? "", seccompProfile: seccompProfile ?? "", graceSeconds })).digest("hex").slice(0, 16);
}

const mebibytes = (bytes: number) => `${Math.max(1, Math.ceil(bytes / (1024 * 1024)))}Mi`;

/**
 * The pod a sandbox runs in: the sandbox image, the same limits as a container (cpu and memory as
 * requests and limits; /mnt/data, /tmp and /dev/shm memory-backed emptyDirs of their sizes, so a
 * full disk is ENOSPC rather than an eviction, and counted in the memory limit), read-only root,
 * every capability dropped but the supervisor's, no privilege escalation, seccomp RuntimeDefault or
 * codebot's Localhost profile, no service account token, no service links, stdin held open for the
 * supervisor's protocol over attach. A deletion waits (preStop sleep) for the grace period so that a
 * worker can save the session before SIGTERM ends the supervisor. Processes: the nodes' pod pids
 * limit, and under gVisor the supervisor's own cap.
 */
export function sandboxPod(name: string, settings: PodSettings, session?: string): V1Pod {
  const { installation, image, limits, runtimeClass, seccompProfile, graceSeconds } = settings;
  const gvisor = isGvisor(runtimeClass);
  const threads = String(Math.max(1, Math.ceil(limits.cpus)));
  const memory = limits.memoryBytes + limits.diskBytes + limits.tmpBytes + limits.shmBytes + (gvisor ? GVISOR_MEMORY_HEADROOM : 0);
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      labels: {
        [LABEL_APP]: APP,
        [LABEL_INSTALLATION]: installation,
        [LABEL_ROLE]: session === undefined ? "pool" : "session",
        [LABEL_SPEC]: specKey(settings),
        ...(session === undefined ? {} : { [LABEL_SESSION]: sessionHash(session) }),
      },
      annotations: { "codebot.dev/image": image, ...(session === undefined ? {} : { [ANNOTATION_SESSION_NAME]: session }) },
    },
    spec: {
      restartPolicy: "Never",
      ...(runtimeClass ? { runtimeClassName: runtimeClass } : {}),
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: graceSeconds,
      securityContext: { seccompProfile: seccompProfile ? { type: "Localhost", localhostProfile: seccompProfile } : { type: "RuntimeDefault" } },
      containers: [
        {
          name: CONTAINER,
          image,
          imagePullPolicy: "IfNotPresent",
          args: [
            "--idle-timeout", String(limits.idleTimeoutSeconds),
            "--cpu-budget", String(limits.cpuBudgetSeconds),
            "--max-lifetime", String(limits.maxLifetimeSeconds),
            ...(gvisor ? ["--gvisor", "--memory-bytes", String(limits.memoryBytes), "--max-processes", String(limits.pids)] : []),
          ],
          env: [
            { name: "OMP_NUM_THREADS", value: threads },
            { name: "OPENBLAS_NUM_THREADS", value: threads },
            { name: "MKL_NUM_THREADS", value: threads },
          ],
          stdin: true,
          stdinOnce: false,
          tty: false,
          workingDir: DATA_DIR,
          resources: {
            requests: { cpu: String(limits.cpus), memory: mebibytes(memory) },
            limits: { cpu: String(limits.cpus), memory: mebibytes(memory) },
          },
          securityContext: {
            runAsUser: 0, // the supervisor; it runs the code as uid 1000
            runAsGroup: 0,
            readOnlyRootFilesystem: true,
            allowPrivilegeEscalation: false,
            privileged: false,
            capabilities: { drop: ["ALL"], add: SUPERVISOR_CAPABILITIES },
          },
          lifecycle: { preStop: { sleep: { seconds: Math.max(1, graceSeconds - 2) } } },
          volumeMounts: [
            { name: "data", mountPath: DATA_DIR },
            { name: "tmp", mountPath: "/tmp" },
            { name: "shm", mountPath: "/dev/shm" },
          ],
        },
      ],
      volumes: [
        { name: "data", emptyDir: { medium: "Memory", sizeLimit: mebibytes(limits.diskBytes) } },
        { name: "tmp", emptyDir: { medium: "Memory", sizeLimit: mebibytes(limits.tmpBytes) } },
        { name: "shm", emptyDir: { medium: "Memory", sizeLimit: mebibytes(limits.shmBytes) } },
      ],
    },
  };
}
