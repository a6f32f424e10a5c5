import { randomUUID } from "node:crypto";
import type { V1Pod } from "@kubernetes/client-node";
import type { Logger } from "../../log.js";
import { RunnerConnection } from "../runner-connection.js";
import { claimAnswerSchema } from "../runner-protocol.js";
import type { PoolClaim, WarmPool } from "../sandbox-provider.js";
import type { PodApi } from "./kubernetes-api.js";
import { KubernetesSandbox } from "./kubernetes-sandbox.js";
import { ANNOTATION_SESSION_NAME, LABEL_ROLE, LABEL_SESSION, LABEL_SPEC, podSelector, pointer, poolPodName, sessionHash } from "./pod-labels.js";
import { hasEnded, isRunning, isTerminating, START_TIMEOUT_MS, waitUntilRunning } from "./pod-readiness.js";
import { sandboxPod, specKey, type PodSettings } from "./pod-spec.js";

const CLAIM_TIMEOUT_MS = 120_000;

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
export class KubernetesWarmPool implements WarmPool {
  private refilling: Promise<void> | undefined;
  private held = false;

  constructor(
    private readonly api: PodApi,
    private readonly settings: PodSettings,
    private readonly size: number,
    private readonly log: Logger,
    private readonly maxFrameBytes: number,
  ) {}

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

  async claim(sessionName: string): Promise<PoolClaim> {
    if (this.size === 0 || this.held) return { kind: "empty" };
    const claimant = `${sessionName}#${randomUUID()}`;
    for (const member of await this.members()) {
      const connection = await this.grant(member, claimant);
      if (!connection) continue;
      try {
        await this.api.patch(member.id, [
          { op: "test", path: `/metadata/labels/${pointer(LABEL_ROLE)}`, value: "pool" },
          { op: "replace", path: `/metadata/labels/${pointer(LABEL_ROLE)}`, value: "session" },
          { op: "add", path: `/metadata/labels/${pointer(LABEL_SESSION)}`, value: sessionHash(sessionName) },
          { op: "add", path: `/metadata/annotations/${pointer(ANNOTATION_SESSION_NAME)}`, value: sessionName },
        ]);
      } catch (error) {
        connection.close();
        const status = (error as { status?: number }).status;
        if (status === 404 || status === 409 || status === 422) continue; // gone, or no longer a pool member
        throw error;
      }
      const holders = await this.api.list(podSelector(this.settings.installation, { [LABEL_SESSION]: sessionHash(sessionName) }));
      if (holders.some((pod) => pod.metadata?.name !== member.id)) {
        // Another pod holds the session already: this one, claimed for it, is of no further use.
        connection.close();
        await this.api.delete(member.id, 0).catch(() => undefined);
        return { kind: "taken" };
      }
      this.log.debug({ pod: member.id, session: sessionName }, "claimed a warm sandbox pod");
      return { kind: "claimed", sandbox: member, connection };
    }
    return { kind: "empty" };
  }

  refill(): Promise<void> {
    this.refilling ??= this.topUp().finally(() => {
      this.refilling = undefined;
    });
    return this.refilling;
  }

  async hold(held: boolean): Promise<void> {
    this.held = held;
    if (!held) return;
    await this.refilling?.catch(() => undefined);
    const removed = await Promise.all(
      (await this.members()).map(async (member) => {
        const connection = await this.grant(member, `drain#${randomUUID()}`);
        connection?.close();
        return connection ? this.api.delete(member.id, 0).then(() => 1, () => 0) : 0;
      }),
    );
    const count = removed.reduce((a: number, b: number) => a + b, 0);
    if (count) this.log.info({ removed: count }, "emptied the warm pool of a drained namespace");
  }

  private async grant(member: KubernetesSandbox, claimant: string): Promise<RunnerConnection | undefined> {
    const connection = await RunnerConnection.attach(member, this.log, this.maxFrameBytes).catch(() => undefined);
    if (!connection) return undefined;
    const answer = await connection.request({ op: "claim", session: claimant }, claimAnswerSchema, CLAIM_TIMEOUT_MS).catch(() => undefined);
    if (answer?.granted) return connection;
    connection.close();
    return undefined;
  }

  /** Creates pool pods until the pool (counting those still starting) has its size, each waited for until it runs. */
  private async topUp(): Promise<void> {
    const missing = this.held ? 0 : this.size - (await this.current()).length;
    for (let i = 0; i < missing && !this.held; i++) {
      try {
        const pod = await this.api.create(sandboxPod(poolPodName(this.settings.installation), this.settings));
        await waitUntilRunning(this.api, pod.metadata!.name!, this.settings.image, START_TIMEOUT_MS);
      } catch (error) {
        this.log.warn({ err: error }, "could not create a warm sandbox pod");
        return;
      }
    }
  }
}
