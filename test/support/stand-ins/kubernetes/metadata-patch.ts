import type { PodObject } from "./pod-store.js";

export class PatchError extends Error {
  constructor(
    message: string,
    readonly conflict = false,
  ) {
    super(message);
  }
}

const unescape = (token: string) => token.replace(/~1/g, "/").replace(/~0/g, "~");

/**
 * A patch of a pod's metadata (labels, annotations; a resourceVersion as a precondition), in the
 * three forms the API server takes: JSON Patch (RFC 6902: add, replace, remove, test), JSON Merge
 * Patch (RFC 7386) and strategic merge patch (for maps, the same as a merge patch). Returns the pod
 * as the patch leaves it (metadata.resourceVersion as the patch names it, for the caller's check).
 */
export function applyMetadataPatch(pod: PodObject, type: string, patch: any): PodObject {
  const next = structuredClone(pod);
  if (type === "application/json-patch+json") {
    if (!Array.isArray(patch)) throw new PatchError("a JSON Patch is an array of operations");
    for (const operation of patch) applyOperation(next, operation);
    return next;
  }
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) throw new PatchError("a merge patch is a JSON object");
  for (const key of Object.keys(patch)) if (key !== "metadata") throw new PatchError(`the stand-in patches metadata only, not ${key}`);
  const metadata = patch.metadata ?? {};
  for (const field of ["labels", "annotations"] as const) {
    if (metadata[field] === undefined) continue;
    const map = { ...(next.metadata[field] ?? {}) };
    for (const [key, value] of Object.entries(metadata[field] ?? {})) {
      if (value === null) delete map[key];
      else map[key] = value;
    }
    next.metadata[field] = map;
  }
  if (metadata.resourceVersion !== undefined) next.metadata.resourceVersion = metadata.resourceVersion;
  return next;
}

function applyOperation(pod: PodObject, operation: any): void {
  const path = typeof operation?.path === "string" ? operation.path.split("/").slice(1).map(unescape) : [];
  const [root, field, key, ...rest] = path;
  if (root !== "metadata" || rest.length) throw new PatchError(`the stand-in patches /metadata/labels, /metadata/annotations and tests /metadata/resourceVersion, not ${operation?.path}`);
  if (field === "resourceVersion" && key === undefined) {
    if (operation.op !== "test") throw new PatchError("metadata.resourceVersion is set by the server");
    if (operation.value !== pod.metadata.resourceVersion) throw new PatchError("the object has been modified; please apply your changes to the latest version and try again", true);
    return;
  }
  if (field !== "labels" && field !== "annotations") throw new PatchError(`the stand-in patches /metadata/labels and /metadata/annotations, not ${operation.path}`);
  const map = (pod.metadata[field] ??= {});
  if (key === undefined) {
    if (operation.op === "test") {
      if (JSON.stringify(map) !== JSON.stringify(operation.value)) throw new PatchError(`test failed: ${operation.path}`);
    } else if (operation.op === "remove") delete pod.metadata[field];
    else pod.metadata[field] = { ...operation.value };
    return;
  }
  switch (operation.op) {
    case "add":
    case "replace":
      if (operation.op === "replace" && !(key in map)) throw new PatchError(`replace operation does not apply: doc is missing key: ${operation.path}`);
      map[key] = operation.value;
      return;
    case "remove":
      if (!(key in map)) throw new PatchError(`remove operation does not apply: doc is missing key: ${operation.path}`);
      delete map[key];
      return;
    case "test":
      if (map[key] !== operation.value) throw new PatchError(`test failed: ${operation.path}`, true);
      return;
    default:
      throw new PatchError(`unsupported JSON Patch operation ${JSON.stringify(operation.op)}`);
  }
}
