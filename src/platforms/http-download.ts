import { displayName } from "../core/display-text.js";
import { TurnFailure } from "../core/turn-failure.js";

const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Credentials for a platform's file host, and which URLs may receive them. */
export interface DownloadCredentials {
  headers: Record<string, string>;
  /** True for the hosts that may see the credentials; any other URL is refused (first hop) or fetched without them (a redirect). */
  allowed(url: URL): boolean;
  /** Whose file hosts these are, for the refusal: "Slack". */
  platform: string;
}

function megabytes(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MB`;
}

function unavailable(name: string, why: string, retry = false, cause?: unknown): TurnFailure {
  return new TurnFailure("FILE_UNAVAILABLE", `"${name}" could not be downloaded (${why}).`, retry, cause ? { cause } : undefined);
}

function parseUrl(url: string, base?: URL): URL | undefined {
  try {
    const parsed = new URL(url, base);
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Fetches a URL following redirects by hand: credentials go only to the hosts they are for,
 * checked again at every hop, never to wherever a redirect points.
 */
async function open(url: string, name: string, credentials?: DownloadCredentials): Promise<Response> {
  let current = parseUrl(url);
  if (!current) throw unavailable(name, "its address is not an http(s) URL");
  if (credentials && !credentials.allowed(current)) {
    throw new TurnFailure("FILE_UNAVAILABLE", `"${name}" is not on ${credentials.platform}'s file servers (its address points at ${displayName(current.host, 80)}), so codebot did not fetch it.`);
  }
  for (let hop = 0; ; hop++) {
    const headers = credentials?.allowed(current) ? credentials.headers : {};
    let response: Response;
    try {
      response = await fetch(current, { headers, redirect: "manual" });
    } catch (error) {
      throw unavailable(name, (error as Error).message, true, error);
    }
    if (!REDIRECTS.has(response.status)) return response;
    await response.body?.cancel().catch(() => undefined);
    const next = parseUrl(response.headers.get("location") ?? "", current);
    if (!next) throw unavailable(name, "a redirect without a valid address");
    if (hop >= MAX_REDIRECTS) throw unavailable(name, "too many redirects");
    current = next;
  }
}

/**
 * Downloads an attachment, streamed, refusing it as soon as it passes maxBytes (whatever the
 * platform claimed its size was). An HTML page where a file was expected means the platform
 * refused access (Slack answers a login page), which is reported as such.
 */
export async function downloadAttachment(url: string, name: string, maxBytes: number, credentials?: DownloadCredentials): Promise<Buffer> {
  const response = await open(url, name, credentials);
  if (!response.ok) throw unavailable(name, `HTTP ${response.status}`, response.status >= 500);
  if ((response.headers.get("content-type") ?? "").startsWith("text/html")) {
    await response.body?.cancel();
    throw new TurnFailure("FILE_UNAVAILABLE", `codebot isn't allowed to read "${name}": an admin should check the app's file permissions.`);
  }
  const declared = Number(response.headers.get("content-length") ?? 0);
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw new TurnFailure("FILE_TOO_LARGE", `"${name}" is ${megabytes(declared)}, over the ${megabytes(maxBytes)} limit for one file.`);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of response.body ?? []) {
    total += chunk.length;
    if (total > maxBytes) {
      await response.body?.cancel().catch(() => undefined);
      throw new TurnFailure("FILE_TOO_LARGE", `"${name}" is over the ${megabytes(maxBytes)} limit for one file.`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
