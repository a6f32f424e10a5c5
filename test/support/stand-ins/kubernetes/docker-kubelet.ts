import { randomUUID } from "node:crypto";
import type Docker from "dockerode";
import { containerForPod, PodSpecError, type NodeSetup } from "./container-for-pod.js";
import type { PodObject, PodStore } from "./pod-store.js";

const now = () => new Date().toISOString().replace(/\.\d+Z$/, "Z");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function dockerStatus(error: unknown): number | undefined {
  return (error as { statusCode?: number })?.statusCode;
}

/**
 * The stand-in's kubelet: it runs each pod the API server stores as a container on the local Docker
 * engine, and writes what happens to it back into the pod's status (Pending, Running, then
 * Succeeded or Failed with the container's exit code and OOMKilled), as the node's kubelet does.
 * A pod is bound to a node when it is created (round robin over the node names: there is no
 * scheduler). Deletion is graceful: deletionTimestamp set at once, the preStop sleep, SIGTERM, then
 * SIGKILL at the end of the grace period, and the pod object goes once its container is gone.
 */
export class DockerKubelet {
  private nextNode = 0;
  private readonly containers = new Map<string, Docker.Container>();
  private readonly deleting = new Map<string, Promise<void>>();
  private readonly exits = new Map<string, Promise<void>>();

  constructor(
    private readonly docker: Docker,
    private readonly store: PodStore,
    private readonly setup: NodeSetup,
    private readonly nodes: string[],
  ) {}

  /** The container running a pod (attach reaches it through this). */
  container(namespace: string, name: string): Docker.Container | undefined {
    return this.containers.get(`${namespace}/${name}`);
  }

  /** Binds a new pod to a node, stores it Pending and starts its container in the background. */
  admit(pod: any): PodObject {
    const node = this.nodes[this.nextNode++ % this.nodes.length]!;
    const created: PodObject = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { ...pod.metadata, uid: randomUUID(), creationTimestamp: now(), generation: 1 },
      spec: { restartPolicy: "Always", terminationGracePeriodSeconds: 30, dnsPolicy: "ClusterFirst", schedulerName: "default-scheduler", ...pod.spec, nodeName: node },
      status: { phase: "Pending", qosClass: qosClass(pod.spec.containers), conditions: [{ type: "PodScheduled", status: "True", lastTransitionTime: now() }] },
    };
    const stored = this.store.add(created);
    void this.run(stored);
    return stored;
  }

  private async run(pod: PodObject): Promise<void> {
    const { namespace, name, uid } = pod.metadata;
    const id = `${namespace}/${name}`;
    const labels = { ...this.setup.containerLabels, "codebot-standin.pod": `${namespace}.${name}`.slice(0, 250), "codebot-standin.uid": uid, "codebot-standin.container": `k8s-${name.slice(0, 40)}-${uid.slice(0, 8)}` };
    let container: Docker.Container | undefined;
    try {
      container = await this.docker.createContainer(containerForPod(pod, this.setup, labels));
      if (this.deleting.has(id)) throw new Error("deleted before it started");
      this.containers.set(id, container);
      await container.start();
    } catch (error) {
      this.containers.delete(id);
      await container?.remove({ force: true, v: true }).catch(() => undefined);
      const missing = dockerStatus(error) === 404 && /image/i.test(String((error as Error).message));
      this.setStatus(namespace, name, (status) => {
        status.phase = missing || error instanceof PodSpecError ? "Pending" : "Failed";
        status.containerStatuses = [containerStatus(pod, missing ? { waiting: { reason: "ErrImageNeverPull", message: `the stand-in pulls no images: ${pod.spec.containers[0].image} is not on the node` } } : error instanceof PodSpecError ? { waiting: { reason: "CreateContainerConfigError", message: error.message } } : { terminated: { exitCode: 128, reason: "StartError", message: String((error as Error).message).slice(0, 500), finishedAt: now() } })];
      });
      return;
    }
    const started = now();
    this.setStatus(namespace, name, (status) => {
      status.phase = "Running";
      status.startTime = started;
      status.hostIP = "10.0.0.1";
      status.conditions = [
        { type: "PodScheduled", status: "True", lastTransitionTime: started },
        { type: "Initialized", status: "True", lastTransitionTime: started },
        { type: "ContainersReady", status: "True", lastTransitionTime: started },
        { type: "Ready", status: "True", lastTransitionTime: started },
      ];
      status.containerStatuses = [containerStatus(pod, { running: { startedAt: started } }, true)];
    });
    const running = container;
    const exited = running.wait().then(() => this.recordExit(pod, running), () => this.recordExit(pod, running));
    this.exits.set(id, exited);
  }

  private async recordExit(pod: PodObject, container: Docker.Container): Promise<void> {
    const { namespace, name } = pod.metadata;
    const info = await container.inspect().catch(() => undefined);
    const state = info?.State;
    const exitCode = state?.ExitCode ?? 137;
    const reason = state?.OOMKilled ? "OOMKilled" : exitCode === 0 ? "Completed" : "Error";
    this.setStatus(namespace, name, (status) => {
      status.phase = exitCode === 0 ? "Succeeded" : "Failed";
      status.conditions = (status.conditions ?? []).map((condition: any) => (condition.type === "Ready" || condition.type === "ContainersReady" ? { ...condition, status: "False", reason: "PodCompleted", lastTransitionTime: now() } : condition));
      status.containerStatuses = [containerStatus(pod, { terminated: { exitCode, reason, startedAt: status.startTime, finishedAt: now() } })];
    });
    this.containers.delete(`${namespace}/${name}`);
    await container.remove({ force: true, v: true }).catch(() => undefined);
  }

  /**
   * Deletes a pod gracefully (gracePeriodSeconds, else the pod's terminationGracePeriodSeconds):
   * the pod is marked at once and returned; its container gets the preStop sleep (within the grace
   * period), then SIGTERM, then SIGKILL when the period ends; the pod object is removed once it has
   * stopped. Zero: a forced deletion, the object removed at once (its container killed after).
   */
  delete(namespace: string, name: string, gracePeriodSeconds: number | undefined): PodObject | undefined {
    const id = `${namespace}/${name}`;
    const current = this.store.get(namespace, name);
    if (!current) return undefined;
    const grace = Math.max(0, gracePeriodSeconds ?? current.spec.terminationGracePeriodSeconds ?? 30);
    if (this.deleting.has(id) && grace > 0) return current;
    const marked = this.store.update(namespace, name, (pod) => {
      pod.metadata.deletionTimestamp ??= new Date(Date.now() + grace * 1000).toISOString().replace(/\.\d+Z$/, "Z");
      pod.metadata.deletionGracePeriodSeconds = grace;
    });
    // Zero is a forced deletion: the object goes at once, and the kubelet kills the container after.
    if (grace === 0) this.store.remove(namespace, name);
    const terminating = this.terminate(current, grace).finally(() => {
      if (this.store.get(namespace, name)?.metadata.uid === current.metadata.uid) this.store.remove(namespace, name);
      this.deleting.delete(id);
    });
    this.deleting.set(id, terminating);
    return marked;
  }

  private async terminate(pod: PodObject, grace: number): Promise<void> {
    const { namespace, name } = pod.metadata;
    const id = `${namespace}/${name}`;
    const deadline = Date.now() + grace * 1000;
    const stopped = () => !this.containers.has(id);
    const preStop = Number(pod.spec.containers[0]?.lifecycle?.preStop?.sleep?.seconds ?? 0);
    for (const [until, signal] of [[Math.min(deadline, Date.now() + preStop * 1000), "SIGTERM"], [deadline, "SIGKILL"]] as const) {
      while (!stopped() && Date.now() < until) await sleep(Math.min(100, until - Date.now()));
      const container = this.containers.get(id);
      if (!container) break;
      await container.kill({ signal }).catch(() => undefined);
    }
    await this.exits.get(id)?.catch(() => undefined);
    this.exits.delete(id);
    const leftover = this.containers.get(id);
    if (leftover) await leftover.remove({ force: true, v: true }).catch(() => undefined);
    this.containers.delete(id);
  }

  /** A node lost with its pods (test control): their containers killed at once, and (as the node lifecycle controller would, later) the pod objects removed. */
  async loseNode(node: string): Promise<string[]> {
    const lost = [...this.containers.keys()].filter((id) => this.store.get(id.split("/")[0]!, id.split("/")[1]!)?.spec.nodeName === node);
    await Promise.all(lost.map(async (id) => this.delete(id.split("/")[0]!, id.split("/")[1]!, 0)));
    await Promise.all(lost.map((id) => this.deleting.get(id)));
    return lost;
  }

  /** Waits until every deletion in progress is done (for a clean shutdown). */
  async settle(): Promise<void> {
    await Promise.all([...this.deleting.values()].map((done) => done.catch(() => undefined)));
  }

  private setStatus(namespace: string, name: string, change: (status: any) => void): void {
    this.store.update(namespace, name, (pod) => change(pod.status));
  }
}

function containerStatus(pod: PodObject, state: Record<string, unknown>, ready = false): Record<string, unknown> {
  const container = pod.spec.containers[0];
  return { name: container.name, image: container.image, imageID: "", ready, started: ready, restartCount: 0, state };
}

function qosClass(containers: any[]): string {
  const all = containers.map((container) => container.resources ?? {});
  if (all.every((resources) => !resources.requests && !resources.limits)) return "BestEffort";
  const guaranteed = all.every((resources) => ["cpu", "memory"].every((name) => resources.limits?.[name] !== undefined && (resources.requests?.[name] ?? resources.limits[name]) === resources.limits[name]));
  return guaranteed ? "Guaranteed" : "Burstable";
}
