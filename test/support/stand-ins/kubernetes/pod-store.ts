import { EventEmitter } from "node:events";

/** A pod as the API serves it (plain JSON: metadata, spec, status). */
export type PodObject = { apiVersion: "v1"; kind: "Pod"; metadata: any; spec: any; status: any };

export type EventType = "ADDED" | "MODIFIED" | "DELETED";

export interface StoredEvent {
  type: EventType;
  object: PodObject;
  /** The resourceVersion the change was stored at. */
  version: number;
}

export class ExpiredVersionError extends Error {}

const key = (namespace: string, name: string) => `${namespace}/${name}`;

/**
 * The stand-in's etcd: pods by namespace and name, one resourceVersion counter for all of them
 * (every change takes the next one, as etcd's revision does), and the last `historySize` changes, so
 * a watch can start from a recent version and one from an older version is told it expired (410).
 * Every object handed out is a copy.
 */
export class PodStore {
  private version = 1000;
  /** The newest version no longer in the history: watching from it or before is 410 Gone. */
  private compacted = 1000;
  private readonly pods = new Map<string, PodObject>();
  private readonly history: StoredEvent[] = [];
  private readonly events = new EventEmitter();

  constructor(private readonly historySize: number) {
    this.events.setMaxListeners(0);
  }

  get currentVersion(): string {
    return String(this.version);
  }

  get(namespace: string, name: string): PodObject | undefined {
    const pod = this.pods.get(key(namespace, name));
    return pod && structuredClone(pod);
  }

  /** The namespace's pods, in name order. */
  list(namespace: string): PodObject[] {
    return [...this.pods.values()].filter((pod) => pod.metadata.namespace === namespace).sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1)).map((pod) => structuredClone(pod));
  }

  add(pod: PodObject): PodObject {
    return this.record("ADDED", pod);
  }

  /** Changes a stored pod (the function edits a copy); undefined when it is gone. */
  update(namespace: string, name: string, change: (pod: PodObject) => void): PodObject | undefined {
    const stored = this.pods.get(key(namespace, name));
    if (!stored) return undefined;
    const next = structuredClone(stored);
    change(next);
    return this.record("MODIFIED", next);
  }

  remove(namespace: string, name: string): PodObject | undefined {
    const stored = this.pods.get(key(namespace, name));
    return stored && this.record("DELETED", structuredClone(stored));
  }

  /** The changes after `since`; throws ExpiredVersionError when some are no longer kept. */
  changesSince(since: number): StoredEvent[] {
    if (since < this.compacted) throw new ExpiredVersionError(`too old resource version: ${since} (${this.compacted + 1})`);
    return this.history.filter((event) => event.version > since).map((event) => structuredClone(event));
  }

  onChange(listener: (event: StoredEvent) => void): () => void {
    const copying = (event: StoredEvent) => listener(structuredClone(event));
    this.events.on("change", copying);
    return () => this.events.off("change", copying);
  }

  private record(type: EventType, pod: PodObject): PodObject {
    this.version += 1;
    pod.metadata.resourceVersion = String(this.version);
    const id = key(pod.metadata.namespace, pod.metadata.name);
    if (type === "DELETED") this.pods.delete(id);
    else this.pods.set(id, pod);
    const event: StoredEvent = { type, object: structuredClone(pod), version: this.version };
    this.history.push(event);
    while (this.history.length > this.historySize) this.compacted = this.history.shift()!.version;
    this.events.emit("change", event);
    return structuredClone(pod);
  }
}
