import type { V1Pod } from "@kubernetes/client-node";
import type { Logger } from "../../log.js";
import { GrantedWarmPool, type Adoption } from "../granted-warm-pool.js";
import type { PodApi } from "./kubernetes-api.js";
import { KubernetesSandbox } from "./kubernetes-sandbox.js";
import { ANNOTATION_SESSION_NAME, LABEL_ROLE, LABEL_SESSION, LABEL_SPEC, podSelector, pointer, poolPodName, sessionHash } from "./pod-labels.js";
import { hasEnded, isRunning, isTerminating, START_TIMEOUT_MS, waitUntilRunning } from "./pod-readiness.js";
import { sandboxPod, specKey, type PodSettings } from "./pod-spec.js";

const created = (pod: V1Pod) => new Date(pod.metadata?.creationTimestamp ?? 0).getTime();

/**
 * Unclaimed sandbox pods, started ahead of sessions with their Python warm. The pool is the
 * namespace's, shared by every worker: a member is granted to one claimant by its supervisor
 * ("claim", as with Docker), then relabelled as the session's with a JSON Patch whose "test" makes
 * sure it still is a pool member. Pods can't be renamed, so the session is named by a label; if
 * another pod already carries it (a cold start or a claim by another process at the same moment),
 * the later one gives way: it is removed and the claim is "taken". Members of another image,
 * runtime class or limits (their spec label) are retired.
 */
export class KubernetesWarmPool extends GrantedWarmPool<KubernetesSandbox> {
  constructor(
    private readonly api: PodApi,
    private readonly settings: PodSettings,
    size: number,
    log: Logger,
    maxFrameBytes: number,
  ) {
    super(size, log, maxFrameBytes);
  }

  private handle(pod: V1Pod): KubernetesSandbox {
    return new KubernetesSandbox(this.api, pod.metadata!.name!, this.log, this.maxFrameBytes);
  }

  /** Pool pods of the current spec, not being deleted (running, or still starting); others are retired. */
  private async current(): Promise<V1Pod[]> {
    const pods = (await this.api.list(podSelector(this.settings.installation, { [LABEL_ROLE]: "pool" }))).filter((pod) => !isTerminating(pod));
    const spec = specKey(this.settings);
    for (const stale of pods.filter((pod) => pod.metadata?.labels?.[LABEL_SPEC] !== spec)) {
      this.log.info({ pod: stale.metadata?.name }, "retiring a warm sandbox pod of an older image, another runtime class or other limits");
      void this.api.delete(stale.metadata!.name!, 0).catch(() => undefined);
    }
    // One that ended, or is still Pending long after it should have run (no node takes it), is retired too.
    const stuck = (pod: V1Pod) => pod.status?.phase === "Pending" && Date.now() - created(pod) > START_TIMEOUT_MS;
    for (const gone of pods.filter((pod) => hasEnded(pod) || stuck(pod))) void this.api.delete(gone.metadata!.name!, 0).catch(() => undefined);
    return pods.filter((pod) => pod.metadata?.labels?.[LABEL_SPEC] === spec && !hasEnded(pod) && !stuck(pod));
  }

  async members(): Promise<KubernetesSandbox[]> {
    return (await this.current())
      .filter(isRunning)
      .sort((a, b) => created(a) - created(b))
      .map((pod) => this.handle(pod));
  }

  protected async adopt(member: KubernetesSandbox, sessionName: string): Promise<Adoption> {
    try {
      await this.api.patch(member.id, [
        { op: "test", path: `/metadata/labels/${pointer(LABEL_ROLE)}`, value: "pool" },
        { op: "replace", path: `/metadata/labels/${pointer(LABEL_ROLE)}`, value: "session" },
        { op: "add", path: `/metadata/labels/${pointer(LABEL_SESSION)}`, value: sessionHash(sessionName) },
        { op: "add", path: `/metadata/annotations/${pointer(ANNOTATION_SESSION_NAME)}`, value: sessionName },
      ]);
    } catch (error) {
      const status = (error as { status?: number }).status;
      if (status === 404 || status === 409 || status === 422) return "lost"; // gone, or no longer a pool member
      throw error;
    }
    // Another pod holds the session already (a cold start, or another process's claim at the same moment): this one gives way.
    const holders = await this.api.list(podSelector(this.settings.installation, { [LABEL_SESSION]: sessionHash(sessionName) }));
    return holders.some((pod) => pod.metadata?.name !== member.id) ? "taken" : "adopted";
  }

  protected async remove(member: KubernetesSandbox): Promise<void> {
    await this.api.delete(member.id, 0);
  }

  /** Pods still starting count too: each is waited for until it runs. */
  protected override async counted(): Promise<number> {
    return (await this.current()).length;
  }

  protected async startMember(): Promise<void> {
    const pod = await this.api.create(sandboxPod(poolPodName(this.settings.installation), this.settings));
    await waitUntilRunning(this.api, pod.metadata!.name!, this.settings.image, START_TIMEOUT_MS);
  }
}
