import type { V1Pod } from "@kubernetes/client-node";
import type { Logger } from "../../log.js";
import { SandboxError } from "../sandbox-error.js";
import type { SessionInfo } from "../sandbox-engine.js";
import type { SandboxProvider } from "../sandbox-provider.js";
import type { SessionNaming } from "../session-naming.js";
import type { PodApi } from "./kubernetes-api.js";
import { KubernetesWarmPool } from "./kubernetes-pool.js";
import { KubernetesSandbox } from "./kubernetes-sandbox.js";
import { ANNOTATION_SESSION_NAME, LABEL_ROLE, LABEL_SESSION, podSelector, sessionHash, sessionPodName } from "./pod-labels.js";
import { hasEnded, isRunning, isServing, isTerminating, START_TIMEOUT_MS, waitUntilRunning } from "./pod-readiness.js";
import { sandboxPod, type PodSettings } from "./pod-spec.js";
import type { PodTerminations } from "./pod-terminations.js";

export interface KubernetesProviderOptions {
  api: PodApi;
  settings: PodSettings;
  naming: SessionNaming;
  poolSize: number;
  maxFrameBytes: number;
  log: Logger;
  /** Who saves the sessions of pods deleted under them; it starts with the namespace's upkeep (removeLeftovers: the workers', not a command's). */
  terminations?: PodTerminations;
}

const created = (pod: V1Pod) => new Date(pod.metadata?.creationTimestamp ?? 0);

/**
 * A Kubernetes namespace's sandboxes: each session a pod (pod-spec.ts) found by its session label,
 * placed, health-checked and drained by the cluster (no catalog of hosts), reached through the API
 * server's attach; a warm pool of unclaimed pods (kubernetes-pool.ts). Nothing here is seen above
 * src/sandbox/: it is a SandboxProvider like Docker's.
 */
export class KubernetesProvider implements SandboxProvider {
  readonly pool: KubernetesWarmPool;

  constructor(private readonly options: KubernetesProviderOptions) {
    this.pool = new KubernetesWarmPool(options.api, options.settings, options.poolSize, options.log, options.maxFrameBytes);
  }

  private get api(): PodApi {
    return this.options.api;
  }

  private handle(pod: V1Pod): KubernetesSandbox {
    return new KubernetesSandbox(this.api, pod.metadata!.name!, this.options.log, this.options.maxFrameBytes);
  }

  private sessionPods(name: string): Promise<V1Pod[]> {
    return this.api.list(podSelector(this.options.settings.installation, { [LABEL_SESSION]: sessionHash(name) }));
  }

  async findRunning(name: string): Promise<KubernetesSandbox | undefined> {
    const pods = (await this.sessionPods(name)).sort((a, b) => created(a).getTime() - created(b).getTime());
    for (const pod of pods.filter(hasEnded)) await this.api.delete(pod.metadata!.name!, 0).catch(() => undefined);
    // A pod in its grace period (evicted, drained) still serves until its session is saved.
    const running = pods.find(isRunning) ?? pods.find(isServing);
    if (running) return this.handle(running);
    // One another process is starting: waited for, as a container start is.
    const starting = pods.find((pod) => !hasEnded(pod) && !isTerminating(pod));
    if (!starting) return undefined;
    const pod = await waitUntilRunning(this.api, starting.metadata!.name!, this.options.settings.image, START_TIMEOUT_MS).catch(() => undefined);
    return pod && this.handle(pod);
  }

  async start(name: string): Promise<KubernetesSandbox | "exists"> {
    const podName = sessionPodName(this.options.settings.installation, name);
    try {
      await this.api.create(sandboxPod(podName, this.options.settings, name));
    } catch (error) {
      if ((error as { status?: number }).status === 409) return "exists";
      throw error;
    }
    try {
      const pod = await waitUntilRunning(this.api, podName, this.options.settings.image, START_TIMEOUT_MS);
      if (!pod) return "exists"; // deleted as it started
      const holders = await this.sessionPods(name);
      if (holders.some((other) => other.metadata?.name !== podName && !isTerminating(other))) {
        await this.api.delete(podName, 0).catch(() => undefined);
        return "exists"; // a pool member was claimed for the session meanwhile: that one serves it
      }
      return this.handle(pod);
    } catch (error) {
      await this.api.delete(podName, 0).catch(() => undefined);
      throw error;
    }
  }

  async remove(name: string): Promise<boolean> {
    const pods = await this.sessionPods(name);
    await Promise.all(pods.map((pod) => this.api.delete(pod.metadata!.name!, 0)));
    return pods.length > 0;
  }

  async runningSessionNames(): Promise<string[]> {
    const pods = await this.api.list(podSelector(this.options.settings.installation, { [LABEL_ROLE]: "session" }));
    return pods.filter(isServing).flatMap((pod) => pod.metadata?.annotations?.[ANNOTATION_SESSION_NAME] ?? []);
  }

  /** Session pods with their node, phase and age (`codebot sessions list`, the admin page). */
  async listSessions(): Promise<SessionInfo[]> {
    const pods = await this.api.list(podSelector(this.options.settings.installation, { [LABEL_ROLE]: "session" }));
    return pods.flatMap((pod) => {
      const name = pod.metadata?.annotations?.[ANNOTATION_SESSION_NAME];
      if (!name) return [];
      const phase = isTerminating(pod) ? "Terminating" : (pod.status?.phase ?? "Unknown");
      return [{ sessionId: this.options.naming.sessionIdFromName(name) ?? name, sandboxId: pod.metadata!.name!, createdAt: created(pod), status: `${phase} on ${pod.spec?.nodeName ?? "no node yet"}` }];
    });
  }

  /** Pods that ended (a sandbox whose supervisor quit, one OOM-killed whole) and were not removed: Kubernetes keeps them. */
  async removeLeftovers(): Promise<Record<string, number>> {
    this.options.terminations?.start();
    const ended = (await this.api.list(podSelector(this.options.settings.installation))).filter(hasEnded);
    const removed = await Promise.all(ended.map((pod) => this.api.delete(pod.metadata!.name!, 0).then(() => 1, () => 0)));
    return { pods: removed.reduce((a: number, b: number) => a + b, 0) };
  }

  async removeAll(): Promise<void> {
    const pods = await this.api.list(podSelector(this.options.settings.installation));
    await Promise.all(pods.map((pod) => this.api.delete(pod.metadata!.name!, 0).catch(() => undefined)));
  }

  async ping(): Promise<void> {
    await this.api.version();
  }

  async setupProblem(): Promise<SandboxError | undefined> {
    try {
      await this.api.list(podSelector(this.options.settings.installation, { [LABEL_ROLE]: "pool" }));
      return undefined;
    } catch (error) {
      return error instanceof SandboxError ? error : new SandboxError("DOCKER_UNAVAILABLE", `The Kubernetes API server can't be used: ${String(error).slice(0, 200)}`);
    }
  }
}
