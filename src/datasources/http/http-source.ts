import type { ByteSink, FetchRequest, FetchResult } from "../data-sources.js";
import type { HttpSourceConfig } from "../source-config.js";
import { SourceError } from "../source-error.js";
import { unreachable, UNREACHABLE_ERRNOS } from "../sql-errors.js";
import { isUnder, resolveUnder, type QueryValue } from "./http-path.js";

/** Characters of an error response's body quoted to the session. */
const ERROR_EXCERPT_CHARS = 300;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * An HTTP API: calls go only under base_url, with the methods the source allows, the headers of
 * its headers_env added here (the sandbox never sees them, nor any response header but the
 * content type), redirects followed only while they stay under base_url, the body streamed to the
 * session and refused past max_bytes. Node's fetch (undici).
 */
export class HttpSource {
  constructor(private readonly config: HttpSourceConfig) {}

  async fetch(request: FetchRequest, sink: ByteSink, timeoutMs: number, signal: AbortSignal): Promise<FetchResult> {
    const { config } = this;
    const method = request.method.toUpperCase();
    if (!(config.methods as string[]).includes(method)) {
      throw new SourceError("not-allowed", `${config.name} allows ${config.methods.join(", ")} only, not ${method.slice(0, 16)}.`);
    }
    if (request.body && (method === "GET" || method === "HEAD")) throw new SourceError("bad-request", `A ${method} request has no body.`);
    const resolved = resolveUnder(config.baseUrl, request.path, request.query as Record<string, QueryValue | QueryValue[]>);
    if ("refused" in resolved) throw new SourceError("not-allowed", `The path was refused: ${resolved.refused}.`);
    const stop = AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);
    try {
      const response = await this.follow(resolved.url, method, request, stop);
      return await this.stream(response, sink, stop);
    } catch (error) {
      if (error instanceof SourceError) throw error;
      if (signal.aborted) throw new SourceError("cancelled", `The execution ended: the request to ${config.name} was stopped.`);
      if (stop.aborted) throw new SourceError("timeout", `${config.name} did not answer within ${timeoutMs / 1000}s.`);
      const cause = (error as { cause?: { code?: string } }).cause;
      throw unreachable(config.name, cause?.code && UNREACHABLE_ERRNOS.has(cause.code) ? cause.code : "the request failed");
    }
  }

  /** The response, after the redirects that stay under base_url (any other is refused). */
  private async follow(start: URL, method: string, request: FetchRequest, signal: AbortSignal): Promise<Response> {
    let url = start;
    let currentMethod = method;
    let body: Buffer | undefined = request.body;
    for (let redirects = 0; ; redirects++) {
      const headers: Record<string, string> = { ...this.config.headers, accept: "*/*" };
      if (body) headers["content-type"] = request.contentType ?? "application/octet-stream";
      const response = await fetch(url, { method: currentMethod, headers, body: body ? new Uint8Array(body) : undefined, redirect: "manual", signal });
      if (!REDIRECTS.has(response.status)) return response;
      await response.body?.cancel();
      const location = response.headers.get("location");
      const next = location ? new URL(location, url) : undefined;
      if (!next || !isUnder(next, this.config.baseUrl)) throw new SourceError("not-allowed", `${this.config.name} redirected outside its base URL: the redirect was not followed.`);
      if (redirects >= this.config.max_redirects) throw new SourceError("not-allowed", `${this.config.name} redirected more than ${this.config.max_redirects} times.`);
      if (response.status === 303 || ((response.status === 301 || response.status === 302) && currentMethod === "POST")) {
        currentMethod = "GET";
        body = undefined;
      }
      url = next;
    }
  }

  private async stream(response: Response, sink: ByteSink, signal: AbortSignal): Promise<FetchResult> {
    const { name, max_bytes: maxBytes } = this.config;
    const contentType = (response.headers.get("content-type") ?? "").slice(0, 200);
    if (!response.ok) {
      const excerpt = (await readUpTo(response, 4 * ERROR_EXCERPT_CHARS)).toString("utf8").replace(/[\x00-\x1f\x7f]+/g, " ").trim().slice(0, ERROR_EXCERPT_CHARS);
      throw new SourceError("http-status", `${name} answered ${response.status}${response.statusText ? ` ${response.statusText.slice(0, 60)}` : ""}${excerpt ? `: ${excerpt}` : ""}`, { status: response.status });
    }
    const declared = Number(response.headers.get("content-length"));
    if (Number.isFinite(declared) && declared > maxBytes) {
      await response.body?.cancel();
      throw tooLarge(name, maxBytes);
    }
    let bytes = 0;
    if (response.body) {
      for await (const chunk of response.body) {
        if (signal.aborted) throw signal.reason;
        bytes += chunk.byteLength;
        if (bytes > maxBytes) throw tooLarge(name, maxBytes);
        await sink.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      }
    }
    return { status: response.status, contentType, bytes };
  }
}

function tooLarge(name: string, maxBytes: number): SourceError {
  return new SourceError("too-large", `${name}'s response is larger than its max_bytes (${Math.round(maxBytes / 1048576)} MB): ask for less (a filter, a page).`);
}

/** At most max bytes of a response's body (the rest is cancelled). */
async function readUpTo(response: Response, max: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  if (response.body) {
    for await (const chunk of response.body) {
      parts.push(Buffer.from(chunk));
      size += chunk.byteLength;
      if (size >= max) break;
    }
  }
  return Buffer.concat(parts).subarray(0, max);
}
