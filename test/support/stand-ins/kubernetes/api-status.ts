import type { ServerResponse } from "node:http";

/**
 * metav1.Status, the body of every failed request (and of a WebSocket attach's last message), in
 * the shapes kube-apiserver writes them: kind/apiVersion/metadata, status, message, reason,
 * details (name, kind, causes) and code.
 */
export interface Status {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, never>;
  status: "Success" | "Failure";
  message?: string;
  reason?: string;
  details?: { name?: string; group?: string; kind?: string; causes?: Array<{ reason?: string; message: string; field?: string }> };
  code?: number;
}

const failure = (code: number, reason: string, message: string, details?: Status["details"]): Status => ({
  kind: "Status",
  apiVersion: "v1",
  metadata: {},
  status: "Failure",
  message,
  reason,
  ...(details ? { details } : {}),
  code,
});

export const success = (): Status => ({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Success" });

export const notFound = (resource: string, name: string): Status => failure(404, "NotFound", `${resource} "${name}" not found`, { name, kind: resource });
export const noRoute = (): Status => failure(404, "NotFound", "the server could not find the requested resource", {});
export const alreadyExists = (resource: string, name: string): Status => failure(409, "AlreadyExists", `${resource} "${name}" already exists`, { name, kind: resource });
export const conflict = (resource: string, name: string, message: string): Status => failure(409, "Conflict", `Operation cannot be fulfilled on ${resource} "${name}": ${message}`, { name, kind: resource });
export const badRequest = (message: string): Status => failure(400, "BadRequest", message);
export const unauthorized = (): Status => failure(401, "Unauthorized", "Unauthorized");
export const forbidden = (resource: string, name: string, why: string): Status => failure(403, "Forbidden", `${resource} "${name}" is forbidden: ${why}`, { name, kind: resource });
export const methodNotAllowed = (message: string): Status => failure(405, "MethodNotAllowed", message, {});
export const tooLarge = (): Status => failure(413, "RequestEntityTooLarge", "Request entity too large: limit is 3145728");
export const unsupportedMediaType = (type: string): Status => failure(415, "UnsupportedMediaType", `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (got ${type})`);
/** A watch from a resourceVersion older than the history kept (sent as a watch ERROR event). */
export const expired = (message: string): Status => failure(410, "Expired", message);

export interface Cause {
  field: string;
  message: string;
  /** FieldValueRequired, FieldValueInvalid, FieldValueNotSupported, FieldValueForbidden. */
  reason: string;
}

/** 422 Invalid: `Pod "name" is invalid: field: message, …`, each cause in details. */
export function invalid(kind: string, name: string, causes: Cause[]): Status {
  const message = `${kind} "${name}" is invalid: ${causes.map((cause) => `${cause.field}: ${cause.message}`).join(", ")}`;
  return failure(422, "Invalid", message, { name, group: "", kind, causes: causes.map(({ reason, message: text, field }) => ({ reason, message: text, field })) });
}

export function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { "content-type": "application/json", "content-length": Buffer.byteLength(text), "cache-control": "no-cache, private" }).end(text);
}

export const sendStatus = (res: ServerResponse, status: Status): void => sendJson(res, status.code ?? 500, status);
