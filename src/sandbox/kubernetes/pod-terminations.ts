import { randomUUID } from "node:crypto";
import { Watch, type V1Pod } from "@kubernetes/client-node";
import type { Logger } from "../../log.js";
import type { SessionNaming } from "../session-naming.js";
import type { PodApi } from "./kubernetes-api.js";
import { ANNOTATION_HIBERNATING, ANNOTATION_SESSION_NAME, LABEL_ROLE, podSelector, pointer } from "./pod-labels.js";

/** Told that a session's pod is being deleted, by the one worker that marked it: resolves once the session is saved (or could not be). */
export type TerminatingSession = (sessionId: string) => Promise<unknown>;

const RETRY_MS = 2000;

/**
 * Watches the installation's session pods for deletions the workers did not ask for (an eviction,
 * a node drain, `kubectl delete`): such a pod keeps running through its grace period (its preStop
 * sleep), and the first worker to mark it (a JSON Patch conditional on the resourceVersion it saw,
 * so exactly one wins) saves its session to the workspace store before SIGTERM ends the supervisor;
 * the thread then resumes in a new pod at its next message, with its files and variables. The watch
 * resumes from the last resourceVersion after a break, and lists afresh when that is too old.
 */
export class PodTerminations {
  private readonly worker = randomUUID();
  private readonly seen = new Set<string>();
  private stopped = false;
  private started = false;
  private request: { abort(): void } | undefined;

  constructor(
    private readonly api: PodApi,
    private readonly installation: string,
    private readonly naming: SessionNaming,
    private readonly onTerminating: TerminatingSession,
    private readonly log: Logger,
  ) {}

  /** Starts watching (once: later calls do nothing). */
  start(): this {
    if (this.started) return this;
    this.started = true;
    void this.watch("");
    return this;
  }

  stop(): void {
    this.stopped = true;
    this.request?.abort();
  }

  private async watch(resourceVersion: string): Promise<void> {
    if (this.stopped) return;
    let version = resourceVersion;
    const again = (from: string) => {
      if (!this.stopped) setTimeout(() => void this.watch(from), RETRY_MS).unref();
    };
    try {
      this.request = await new Watch(this.api.kc).watch(
        `/api/v1/namespaces/${this.api.namespace}/pods`,
        { labelSelector: podSelector(this.installation, { [LABEL_ROLE]: "session" }), ...(version ? { resourceVersion: version } : {}), allowWatchBookmarks: true },
        (type: string, pod: V1Pod & { code?: number }) => {
          if (type === "ERROR") {
            version = ""; // 410 Expired: list afresh
            return;
          }
          version = pod.metadata?.resourceVersion ?? version;
          if (type === "MODIFIED" || type === "ADDED") void this.consider(pod);
          if (type === "DELETED") this.seen.delete(pod.metadata?.name ?? "");
        },
        (error: unknown) => {
          if (error) this.log.debug({ err: error }, "the watch of sandbox pods broke; resuming");
          again(version);
        },
      );
    } catch (error) {
      this.log.debug({ err: error }, "could not watch sandbox pods; trying again");
      again(version);
    }
  }

  private async consider(pod: V1Pod): Promise<void> {
    const name = pod.metadata?.name;
    const sessionName = pod.metadata?.annotations?.[ANNOTATION_SESSION_NAME];
    if (!name || !sessionName || !pod.metadata?.deletionTimestamp || pod.metadata.annotations?.[ANNOTATION_HIBERNATING] || this.seen.has(name)) return;
    this.seen.add(name);
    const sessionId = this.naming.sessionIdFromName(sessionName);
    if (sessionId === undefined) return; // hashed: its thread can't be named, nothing to save it under
    try {
      await this.api.patch(name, [
        { op: "test", path: "/metadata/resourceVersion", value: pod.metadata.resourceVersion },
        { op: "add", path: `/metadata/annotations/${pointer(ANNOTATION_HIBERNATING)}`, value: this.worker },
      ]);
    } catch {
      this.seen.delete(name); // changed since (the next event tells whether another worker marked it), or gone
      return;
    }
    this.log.info({ sessionId, pod: name, node: pod.spec?.nodeName }, "a session's pod is being deleted (eviction or drain): saving the session");
    await this.onTerminating(sessionId).catch((error: unknown) => this.log.warn({ err: error, sessionId }, "could not save the session of a pod being deleted"));
  }
}
