import { listenOrWarn, type ListeningServer } from "./listen-or-warn.js";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Registry } from "prom-client";
import { bearerCredentials, sameSecret } from "../core/same-secret.js";
import type { Logger } from "../log.js";
import type { Readiness } from "./readiness.js";

/** What an ops endpoint serves: the process's metrics and its readiness. */
export interface OpsEndpoints {
  registry: Registry;
  readiness: Readiness;
  log: Logger;
  /** METRICS_TOKEN: every request must carry it (`Authorization: Bearer …`); none: the endpoints are open. */
  token?: string;
}

export const OPS_PATHS = ["/metrics", "/healthz", "/readyz"] as const;

/**
 * Answers GET /metrics, /healthz and /readyz; false for any other request (left to the caller).
 * /healthz says the process runs (nothing else is asked); /readyz says whether its dependencies
 * answer, naming those that don't (503). With a token, a request without it (or with another) is a
 * 401 and learns nothing else; the token is compared in constant time.
 */
function serveOps(endpoints: OpsEndpoints, req: IncomingMessage, res: ServerResponse): boolean {
  const path = (req.url ?? "").split("?", 1)[0];
  if (!OPS_PATHS.includes(path as (typeof OPS_PATHS)[number])) return false;
  if (endpoints.token !== undefined && !sameSecret(bearerCredentials(req.headers.authorization) ?? "", endpoints.token)) {
    res.writeHead(401, { "www-authenticate": 'Bearer realm="codebot ops"', "content-type": "application/json", "cache-control": "no-store" }).end(JSON.stringify({ status: "unauthorized" }));
    return true;
  }
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { allow: "GET, HEAD" }).end();
    return true;
  }
  void answer(endpoints, path!, res).catch((error: unknown) => {
    endpoints.log.warn({ err: error, path }, "an ops endpoint failed");
    if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
    res.end(JSON.stringify({ status: "error" }));
  });
  return true;
}

async function answer({ registry, readiness }: OpsEndpoints, path: string, res: ServerResponse): Promise<void> {
  if (path === "/healthz") return json(res, 200, { status: "ok" });
  if (path === "/readyz") {
    const report = await readiness.report();
    return json(res, report.ready ? 200 : 503, { status: report.ready ? "ok" : "unavailable", away: report.away, checks: report.checks });
  }
  const text = await registry.metrics();
  res.writeHead(200, { "content-type": registry.contentType }).end(text);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" }).end(JSON.stringify(body));
}

export type OpsServer = ListeningServer;

/**
 * A small HTTP server for the endpoints, on a port of its own (never a public one such as Slack's
 * PORT): any other path is a 404. A port that can't be had (in use, not permitted) is never
 * fatal: one warning, and the process runs on without them. Port 0 means off.
 */
export async function startOpsServer(endpoints: OpsEndpoints, { port, host }: { port: number; host: string }): Promise<OpsServer | undefined> {
  if (port === 0) return undefined;
  const server: Server = createServer((req, res) => {
    if (!serveOps(endpoints, req, res)) res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ status: "not found" }));
  });
  const listening = await listenOrWarn(server, { port, host }, endpoints.log, "the metrics and health endpoints");
  if (listening) endpoints.log.info({ port, host, paths: OPS_PATHS }, "metrics and health endpoints listening");
  return listening;
}
