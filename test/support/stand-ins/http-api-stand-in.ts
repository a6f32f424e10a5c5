import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { Socket } from "node:net";
import { shutdown } from "./server-shutdown.js";

/**
 * A local HTTP API for the data-source tests: an allowed tree under /api/v1/ and, beside it, what
 * must never be reached (/admin). Every request it receives is recorded (method, path, headers,
 * body), so a test can tell what left the worker and what never did.
 */
export interface ApiRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface HttpApiStandIn {
  port: number;
  /** http://127.0.0.1:<port>/api/v1/ */
  baseUrl: string;
  requests: ApiRequest[];
  close(): Promise<void>;
}

export async function startHttpApi(): Promise<HttpApiStandIn> {
  const requests: ApiRequest[] = [];
  const sockets = new Set<Socket>();
  let port = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
      const url = new URL(req.url ?? "/", "http://localhost");
      const json = (status: number, value: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value));
      switch (url.pathname) {
        case "/api/v1/daily.json":
          return json(200, { day: url.searchParams.get("day"), visits: [3, 5, 8], tags: url.searchParams.getAll("tag") });
        case "/api/v1/echo":
          return res.writeHead(200, { "content-type": req.headers["content-type"] ?? "application/octet-stream", "set-cookie": "session=server-secret" }).end(body);
        case "/api/v1/redirect-inside":
          return res.writeHead(302, { location: "/api/v1/daily.json?day=moved" }).end();
        case "/api/v1/redirect-outside":
          return res.writeHead(302, { location: "/admin/keys" }).end();
        case "/api/v1/redirect-other-host":
          return res.writeHead(307, { location: `http://127.0.0.2:${port}/api/v1/daily.json` }).end();
        case "/api/v1/redirect-loop":
          return res.writeHead(302, { location: "/api/v1/redirect-loop" }).end();
        case "/api/v1/big":
          return res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(5 << 20) }).end(Buffer.alloc(5 << 20, 120));
        case "/api/v1/big-chunked": {
          res.writeHead(200, { "content-type": "application/octet-stream" });
          for (let i = 0; i < 80; i++) res.write(Buffer.alloc(65536, 121));
          return res.end();
        }
        case "/api/v1/slow":
          return setTimeout(() => json(200, { late: true }), 5000);
        case "/api/v1/missing":
          return res.writeHead(404, { "content-type": "text/plain" }).end("not here\n\u001b[31mred\u001b[0m");
        default:
          return res.writeHead(url.pathname.startsWith("/admin") ? 200 : 404, { "content-type": "text/plain" }).end(url.pathname.startsWith("/admin") ? "ADMIN KEYS" : "no such route");
      }
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as { port: number }).port;
  return { port, baseUrl: `http://127.0.0.1:${port}/api/v1/`, requests, close: () => shutdown(server, sockets) };
}
