import { SandboxError } from "../sandbox-error.js";

/** The HTTP status of a failed API call (the client's ApiException), if it got that far. */
export function apiStatus(error: unknown): number | undefined {
  const code = (error as { code?: unknown })?.code;
  return typeof code === "number" ? code : undefined;
}

/** The Status message the API server sent, clipped: it names the pod and the reason, nothing secret. */
function statusMessage(error: unknown): string | undefined {
  const body = (error as { body?: unknown })?.body;
  try {
    const parsed = typeof body === "string" ? (JSON.parse(body) as { message?: unknown }) : (body as { message?: unknown } | undefined);
    return typeof parsed?.message === "string" ? parsed.message.slice(0, 300) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * An API failure a person can act on: the API server unreachable or refusing the worker's
 * credentials (DOCKER_UNAVAILABLE: no sandbox can start; the code names "the engine", whichever it
 * is), or a pod refused (SANDBOX_START_FAILED, with the server's reason: a quota, a missing
 * RuntimeClass, admission).
 */
export function explainKubernetesError(error: unknown, namespace: string): Error {
  if (error instanceof SandboxError) return error;
  const status = apiStatus(error);
  if (status === undefined) return new SandboxError("DOCKER_UNAVAILABLE", `The Kubernetes API server does not answer (${String((error as Error)?.message ?? error).slice(0, 200)}).`, { cause: error });
  if (status === 401) return new SandboxError("DOCKER_UNAVAILABLE", "The Kubernetes API server refused the worker's credentials (401): check KUBECONFIG or the service account token.", { cause: error });
  if (status === 403) {
    const message = statusMessage(error) ?? "forbidden";
    return new SandboxError(/RuntimeClass/.test(message) ? "RUNTIME_MISSING" : "SANDBOX_START_FAILED", `Kubernetes refused it in namespace ${namespace}: ${message}`, { cause: error });
  }
  if (status >= 500) return new SandboxError("DOCKER_UNAVAILABLE", `The Kubernetes API server failed (${status}): ${statusMessage(error) ?? "no reason given"}`, { cause: error });
  return new SandboxError("SANDBOX_START_FAILED", `Kubernetes answered ${status}: ${statusMessage(error) ?? "no reason given"}`, { cause: error });
}
