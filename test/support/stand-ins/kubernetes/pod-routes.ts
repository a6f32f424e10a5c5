import type { IncomingMessage, ServerResponse } from "node:http";
import { alreadyExists, badRequest, conflict, forbidden, invalid, methodNotAllowed, notFound, sendJson, sendStatus, tooLarge, unsupportedMediaType, type Status } from "./api-status.js";
import type { DockerKubelet } from "./docker-kubelet.js";
import { applyMetadataPatch, PatchError } from "./metadata-patch.js";
import type { PodStore } from "./pod-store.js";
import { validateMetadataPatch, validatePod } from "./pod-validation.js";
import { baselineViolations } from "./pod-security.js";
import { servePodWatch } from "./pod-watch.js";
import { fieldSelector, labelSelector, SelectorError } from "./selectors.js";

const MAX_BODY = 3 * 1024 * 1024;

export interface PodApi {
  store: PodStore;
  kubelet: DockerKubelet;
  namespaces: Set<string>;
  runtimeClasses: Record<string, string>;
  /** Namespaces whose Pod Security level is "baseline" (enforced at admission). */
  baselineNamespaces: Set<string>;
}

class RequestError extends Error {
  constructor(readonly status: Status) {
    super(status.message);
  }
}

async function readJson(req: IncomingMessage, types: string[]): Promise<any> {
  const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim();
  if (!types.includes(type)) throw new RequestError(unsupportedMediaType(type));
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new RequestError(tooLarge());
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch (error) {
    throw new RequestError(badRequest(`couldn't get version/kind; json parse error: ${(error as Error).message}`));
  }
}

/** GET, POST, PATCH and DELETE of /api/v1/namespaces/{namespace}/pods[/{name}], as kube-apiserver answers them. */
export async function servePods(api: PodApi, req: IncomingMessage, res: ServerResponse, url: URL, namespace: string, name: string | undefined): Promise<void> {
  try {
    if (name === undefined) {
      if (req.method === "GET") return listPods(api, req, res, url, namespace);
      if (req.method === "POST") return await createPod(api, req, res, namespace);
      return sendStatus(res, methodNotAllowed(`the server does not allow this method on the requested resource`));
    }
    if (req.method === "GET") {
      const pod = api.store.get(namespace, name);
      return pod ? sendJson(res, 200, pod) : sendStatus(res, notFound("pods", name));
    }
    if (req.method === "DELETE") {
      const body = req.headers["content-type"] ? await readJson(req, ["application/json"]).catch(() => ({})) : {};
      const grace = url.searchParams.get("gracePeriodSeconds") ?? body?.gracePeriodSeconds;
      const deleted = api.kubelet.delete(namespace, name, grace === undefined || grace === null ? undefined : Number(grace));
      return deleted ? sendJson(res, 200, deleted) : sendStatus(res, notFound("pods", name));
    }
    if (req.method === "PATCH") return await patchPod(api, req, res, namespace, name);
    return sendStatus(res, methodNotAllowed(`the server does not allow this method on the requested resource`));
  } catch (error) {
    if (error instanceof RequestError) return sendStatus(res, error.status);
    if (error instanceof SelectorError) return sendStatus(res, badRequest(error.message));
    throw error;
  }
}

function listPods(api: PodApi, req: IncomingMessage, res: ServerResponse, url: URL, namespace: string): void {
  const labels = labelSelector(url.searchParams.get("labelSelector"));
  const fields = fieldSelector(url.searchParams.get("fieldSelector"));
  const matches = (pod: any) => labels(pod.metadata.labels) && fields(pod);
  if (url.searchParams.get("watch") === "true" || url.searchParams.get("watch") === "1") {
    const timeout = url.searchParams.get("timeoutSeconds");
    return servePodWatch(req, res, api.store, {
      namespace,
      matches,
      resourceVersion: url.searchParams.get("resourceVersion") ?? "",
      ...(timeout ? { timeoutSeconds: Number(timeout) } : {}),
      bookmarks: url.searchParams.get("allowWatchBookmarks") === "true",
    });
  }
  const items = api.store.list(namespace).filter(matches).map(({ apiVersion: _version, kind: _kind, ...item }) => item);
  sendJson(res, 200, { kind: "PodList", apiVersion: "v1", metadata: { resourceVersion: api.store.currentVersion }, items });
}

async function createPod(api: PodApi, req: IncomingMessage, res: ServerResponse, namespace: string): Promise<void> {
  const pod = await readJson(req, ["application/json"]);
  if (pod?.metadata?.namespace !== undefined && pod.metadata.namespace !== namespace) return sendStatus(res, badRequest("the namespace of the provided object does not match the namespace sent on the request"));
  if (pod?.kind !== undefined && pod.kind !== "Pod") return sendStatus(res, badRequest(`the API version in the data (${pod.apiVersion}) does not match the expected API version (v1)`));
  if (!api.namespaces.has(namespace)) return sendStatus(res, notFound("namespaces", namespace));
  if (typeof pod?.metadata?.generateName === "string" && !pod.metadata.name) pod.metadata.name = `${pod.metadata.generateName}${Math.random().toString(36).slice(2, 7)}`;
  const causes = validatePod(pod);
  if (causes.length) return sendStatus(res, invalid("Pod", pod?.metadata?.name ?? "", causes));
  const runtimeClass = pod.spec.runtimeClassName;
  if (runtimeClass !== undefined && !(runtimeClass in api.runtimeClasses)) return sendStatus(res, forbidden("pods", pod.metadata.name, `pod rejected: RuntimeClass "${runtimeClass}" not found`));
  const violation = api.baselineNamespaces.has(namespace) ? baselineViolations(pod) : undefined;
  if (violation) return sendStatus(res, forbidden("pods", pod.metadata.name, violation));
  if (api.store.get(namespace, pod.metadata.name)) return sendStatus(res, alreadyExists("pods", pod.metadata.name));
  const { resourceVersion: _rv, uid: _uid, creationTimestamp: _created, deletionTimestamp: _deleted, ...metadata } = pod.metadata;
  const created = api.kubelet.admit({ ...pod, metadata: { ...metadata, namespace }, status: undefined });
  sendJson(res, 201, created);
}

async function patchPod(api: PodApi, req: IncomingMessage, res: ServerResponse, namespace: string, name: string): Promise<void> {
  const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim();
  const patch = await readJson(req, ["application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json"]);
  const current = api.store.get(namespace, name);
  if (!current) return sendStatus(res, notFound("pods", name));
  let next;
  try {
    next = applyMetadataPatch(current, type, patch);
  } catch (error) {
    if (!(error instanceof PatchError)) throw error;
    return sendStatus(res, error.conflict ? conflict("pods", name, error.message) : invalid("Pod", name, [{ field: "body", reason: "FieldValueInvalid", message: error.message }]));
  }
  const causes = validateMetadataPatch({ metadata: { labels: next.metadata.labels ?? {}, annotations: next.metadata.annotations ?? {} } });
  if (causes.length) return sendStatus(res, invalid("Pod", name, causes));
  const requested = next.metadata.resourceVersion;
  if (requested !== undefined && requested !== current.metadata.resourceVersion) return sendStatus(res, conflict("pods", name, "the object has been modified; please apply your changes to the latest version and try again"));
  const updated = api.store.update(namespace, name, (pod) => {
    pod.metadata.labels = next.metadata.labels;
    pod.metadata.annotations = next.metadata.annotations;
  });
  return updated ? sendJson(res, 200, updated) : sendStatus(res, notFound("pods", name));
}
