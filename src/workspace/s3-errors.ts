/** How the S3 store reads the SDK's errors: a missing key, an endpoint that can't be reached, a short reason for messages. */

/** Error codes (Node's, the SDK's) that mean the endpoint can't be reached. */
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "EHOSTDOWN",
  "EPROTO",
  "ERR_SOCKET_CONNECTION_TIMEOUT",
  "UND_ERR_CONNECT_TIMEOUT",
]);
const NETWORK_NAMES = new Set(["TimeoutError", "RequestTimeout", "RequestTimeoutException", "NetworkingError"]);

interface SdkError {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  cause?: unknown;
  $metadata?: { httpStatusCode?: number };
}

export function isMissingKey(error: unknown): boolean {
  const failure = error as SdkError | null;
  if (failure?.name === "NoSuchKey" || failure?.name === "NotFound") return true;
  // A 404 that names no bucket problem: some S3-compatible stores send no error code for a missing key.
  return failure?.$metadata?.httpStatusCode === 404 && failure.name !== "NoSuchBucket";
}

/** Connection errors, timeouts, DNS, and 5xx or throttling left after the SDK's retries. */
export function isNetworkFailure(error: unknown): boolean {
  for (let failure = error as SdkError | null, depth = 0; failure && depth < 5; failure = failure.cause as SdkError | null, depth++) {
    if (typeof failure.code === "string" && NETWORK_CODES.has(failure.code)) return true;
    if (typeof failure.name === "string" && NETWORK_NAMES.has(failure.name)) return true;
    const status = failure.$metadata?.httpStatusCode;
    if (status !== undefined && (status >= 500 || status === 429)) return true;
  }
  return false;
}

/** A short reason: the error's code or name and message, which never hold credentials. */
export function reason(error: unknown): string {
  const failure = error as SdkError | null;
  const code = typeof failure?.code === "string" ? failure.code : typeof failure?.name === "string" && failure.name !== "Error" ? failure.name : undefined;
  const message = typeof failure?.message === "string" && failure.message && failure.message !== code ? failure.message : undefined;
  const status = failure?.$metadata?.httpStatusCode;
  const text = [code, message].filter(Boolean).join(": ") || "unknown error";
  return status ? `${text} (HTTP ${status})` : text;
}

/** The endpoint without any user or password in it, for messages. */
export function endpointOrigin(endpoint: string): string {
  try {
    return new URL(endpoint).origin;
  } catch {
    return "the configured endpoint";
  }
}
