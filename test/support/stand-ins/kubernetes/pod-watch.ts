import type { IncomingMessage, ServerResponse } from "node:http";
import { expired } from "./api-status.js";
import { ExpiredVersionError, type PodObject, type PodStore, type StoredEvent } from "./pod-store.js";

export interface WatchQuery {
  namespace: string;
  matches: (pod: PodObject) => boolean;
  /** "" or "0": the current state first (as ADDED events), then changes; else changes after it. */
  resourceVersion: string;
  timeoutSeconds?: number;
  bookmarks: boolean;
}

/**
 * A watch of a namespace's pods as kube-apiserver streams it: a 200 whose body is one JSON event per
 * line ({"type", "object"}), chunked, held open until timeoutSeconds (or the client leaves). A pod
 * that starts or stops matching the selectors arrives as ADDED or DELETED, as the watch cache sends
 * it; a resourceVersion older than the history is one ERROR event with a 410 Expired Status.
 * Bookmarks, when asked for, come every few seconds and at the end.
 */
export function servePodWatch(req: IncomingMessage, res: ServerResponse, store: PodStore, query: WatchQuery): void {
  res.writeHead(200, { "content-type": "application/json", "cache-control": "no-cache, private", "transfer-encoding": "chunked" });
  const send = (type: string, object: unknown) => res.write(`${JSON.stringify({ type, object })}\n`);
  const matching = new Set<string>();
  let lastVersion = Number(store.currentVersion);

  const deliver = (event: StoredEvent) => {
    if (event.object.metadata.namespace !== query.namespace) return;
    lastVersion = event.version;
    const name = event.object.metadata.name as string;
    const was = matching.has(name);
    const is = event.type !== "DELETED" && query.matches(event.object);
    if (is) matching.add(name);
    else matching.delete(name);
    if (event.type === "DELETED") {
      if (was || query.matches(event.object)) send("DELETED", event.object);
    } else if (is) send(was ? "MODIFIED" : "ADDED", event.object);
    else if (was) send("DELETED", event.object);
  };

  // Subscribed before the backlog is read, so nothing falls between; what the backlog delivered is skipped.
  const queued: StoredEvent[] = [];
  let live = false;
  const unsubscribe = store.onChange((event) => (live ? deliver(event) : queued.push(event)));
  let delivered = 0;
  if (query.resourceVersion === "" || query.resourceVersion === "0") {
    for (const pod of store.list(query.namespace)) {
      if (!query.matches(pod)) continue;
      matching.add(pod.metadata.name);
      send("ADDED", pod);
    }
    delivered = Number(store.currentVersion);
  } else {
    const since = Number(query.resourceVersion);
    try {
      if (!Number.isInteger(since)) throw new ExpiredVersionError(`invalid resource version: ${query.resourceVersion}`);
      for (const pod of store.list(query.namespace)) if (Number(pod.metadata.resourceVersion) <= since && query.matches(pod)) matching.add(pod.metadata.name);
      for (const event of store.changesSince(since)) deliver(event);
      delivered = Number(store.currentVersion);
    } catch (error) {
      if (!(error instanceof ExpiredVersionError)) throw error;
      unsubscribe();
      send("ERROR", expired(error.message));
      res.end();
      return;
    }
  }
  for (const event of queued) if (event.version > delivered) deliver(event);
  live = true;

  const bookmark = () => send("BOOKMARK", { kind: "Pod", apiVersion: "v1", metadata: { resourceVersion: String(lastVersion) } });
  const ticker = query.bookmarks ? setInterval(bookmark, 5_000) : undefined;
  const stop = () => {
    unsubscribe();
    if (ticker) clearInterval(ticker);
    clearTimeout(timer);
  };
  const timer = setTimeout(() => {
    if (query.bookmarks) bookmark();
    stop();
    res.end();
  }, (query.timeoutSeconds ?? 1800) * 1000);
  req.on("close", stop);
  res.on("close", stop);
}
