import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import Docker from "dockerode";
import { WebSocketServer } from "ws";
import { stringify } from "yaml";
import { noRoute, notFound, sendJson, sendStatus, unauthorized } from "./api-status.js";
import { ATTACH_PROTOCOLS, refuseUpgrade, serveAttach } from "./attach-socket.js";
import { DockerKubelet } from "./docker-kubelet.js";
import { servePods, type PodApi } from "./pod-routes.js";
import { PodStore } from "./pod-store.js";
import { servingCertificate } from "./serving-cert.js";

export interface KubernetesStandInOptions {
  /** Namespaces that exist (a pod created in another is refused, as the API server refuses it). */
  namespaces: string[];
  /** Namespaces labelled pod-security.kubernetes.io/enforce=baseline (deploy/kubernetes makes the sandbox namespace one). */
  baselineNamespaces?: string[];
  /** RuntimeClass → the engine's runtime; default gvisor → runsc. */
  runtimeClasses?: Record<string, string>;
  /** Node names pods are bound to, round robin (default: one, "stand-in-node-a"). */
  nodes?: string[];
  /** Attach subprotocols spoken (default v5 then v4; v4 alone to try a client's fallback). */
  attachProtocols?: string[];
  podPidsLimit?: number;
  seccompRoot?: string;
  /** resourceVersions kept for watches to resume from (older: 410 Expired). */
  historySize?: number;
  docker?: Docker;
}

/** A response replayed in place of the stand-in's own: one a real API server sends on a path the stand-in can't produce (a quota's refusal, a pod no node can take). */
export interface Replay {
  method: string;
  path: RegExp;
  /** Replayed once, then the stand-in answers again; else every time. */
  once?: boolean;
  code: number;
  /** A JSON body, or for a watch the events, one a line. */
  body: unknown;
  watch?: boolean;
}

const POD_PATH = /^\/api\/v1\/(?:watch\/)?namespaces\/([^/]+)\/pods(?:\/([^/]+))?(?:\/(attach|eviction))?$/;

/**
 * A stand-in for kube-apiserver (and one kubelet behind it) on a local port: the pods part of the
 * core/v1 API over real HTTPS (serving-cert.ts), with bearer-token authentication, resourceVersions, label and field
 * selectors, chunked watch streams, metav1.Status errors, and the attach subresource over a
 * WebSocket; each pod a real container of the local Docker engine (docker-kubelet.ts). A client
 * reaches it through the kubeconfig it writes. What it does not model: README.md beside it.
 */
export class KubernetesStandIn {
  readonly token = randomBytes(24).toString("hex");
  readonly instance = randomBytes(4).toString("hex");
  readonly store: PodStore;
  readonly kubelet: DockerKubelet;
  readonly docker: Docker;
  private readonly server: Server;
  private readonly wss: WebSocketServer;
  private readonly api: PodApi;
  private readonly protocols: string[];
  private address?: string;
  private readonly replays: Replay[] = [];
  private readonly certificate = servingCertificate();

  constructor(options: KubernetesStandInOptions) {
    this.docker = options.docker ?? new Docker();
    this.store = new PodStore(options.historySize ?? 1000);
    const runtimeClasses = options.runtimeClasses ?? { gvisor: "runsc" };
    this.kubelet = new DockerKubelet(this.docker, this.store, { runtimeClasses, podPidsLimit: options.podPidsLimit ?? 4096, seccompRoot: options.seccompRoot, containerLabels: { "codebot-standin.instance": this.instance } }, options.nodes ?? ["stand-in-node-a"]);
    this.api = { store: this.store, kubelet: this.kubelet, namespaces: new Set(options.namespaces), runtimeClasses, baselineNamespaces: new Set(options.baselineNamespaces ?? []) };
    this.protocols = options.attachProtocols ?? [...ATTACH_PROTOCOLS];
    // The first of the client's subprotocols the server speaks, as the API server negotiates it.
    this.wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 * 1024, handleProtocols: (offered) => [...offered].find((name) => this.protocols.includes(name)) ?? false });
    this.server = createServer({ key: this.certificate.key, cert: this.certificate.cert }, (req, res) => void this.handle(req, res));
    this.server.on("upgrade", (req, socket, head) => void this.upgrade(req, socket, head));
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.address = `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.address;
  }

  get url(): string {
    if (!this.address) throw new Error("the stand-in is not started");
    return this.address;
  }

  /** A kubeconfig naming this server and its token, as `kubectl config view --raw` would print it. */
  kubeconfig(namespace?: string): string {
    return stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "stand-in", cluster: { server: this.url, "certificate-authority-data": Buffer.from(this.certificate.cert).toString("base64") } }],
      users: [{ name: "codebot-worker", user: { token: this.token } }],
      contexts: [{ name: "stand-in", context: { cluster: "stand-in", user: "codebot-worker", ...(namespace ? { namespace } : {}) } }],
      "current-context": "stand-in",
    });
  }

  writeKubeconfig(path: string, namespace?: string): string {
    writeFileSync(path, this.kubeconfig(namespace), { mode: 0o600 });
    return path;
  }

  /** Replays not yet used up. */
  get replaysLeft(): number {
    return this.replays.length;
  }

  /** Answers matching requests with a recorded response (in front of the stand-in's own routes). */
  replay(replay: Replay): void {
    this.replays.push(replay);
  }

  private replayed(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
    const watching = url.searchParams.get("watch") === "true";
    const at = this.replays.findIndex((replay) => replay.method === req.method && replay.path.test(url.pathname) && Boolean(replay.watch) === watching);
    if (at < 0) return false;
    const replay = this.replays[at]!;
    if (replay.once) this.replays.splice(at, 1);
    if (replay.watch) {
      res.writeHead(replay.code, { "content-type": "application/json", "transfer-encoding": "chunked" });
      res.end((replay.body as unknown[]).map((event) => `${JSON.stringify(event)}\n`).join(""));
    } else sendJson(res, replay.code, replay.body);
    return true;
  }

  /** Stops serving; every container of this stand-in is removed. */
  async close(): Promise<void> {
    for (const client of this.wss.clients) client.terminate();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    const containers = await this.docker.listContainers({ all: true, filters: { label: [`codebot-standin.instance=${this.instance}`] } });
    await Promise.all(containers.map((info) => this.docker.getContainer(info.Id).remove({ force: true, v: true }).catch(() => undefined)));
  }

  private authorized(req: IncomingMessage): boolean {
    return req.headers.authorization === `Bearer ${this.token}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (!this.authorized(req)) return sendStatus(res, unauthorized());
      const url = new URL(req.url ?? "/", "http://stand-in");
      if (this.replayed(req, res, url)) return;
      if (req.method === "GET" && url.pathname === "/version") return sendJson(res, 200, { major: "1", minor: "31", gitVersion: "v1.31.0-codebot-stand-in", platform: "linux/amd64" });
      if (req.method === "GET" && url.pathname === "/api") return sendJson(res, 200, { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [] });
      const match = POD_PATH.exec(url.pathname);
      if (!match) return sendStatus(res, noRoute());
      const [, namespace, name, subresource] = match as unknown as [string, string, string | undefined, string | undefined];
      if (url.pathname.startsWith("/api/v1/watch/")) url.searchParams.set("watch", "true");
      if (subresource === "eviction" && name && req.method === "POST") {
        // An eviction is a graceful deletion here: no PodDisruptionBudget is consulted.
        const deleted = this.kubelet.delete(namespace, name, undefined);
        return deleted ? sendJson(res, 201, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success" }) : sendStatus(res, notFound("pods", name));
      }
      if (subresource) return sendStatus(res, noRoute());
      await servePods(this.api, req, res, url, namespace, name);
    } catch (error) {
      if (!res.headersSent) sendJson(res, 500, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: String((error as Error).message), reason: "InternalError", code: 500 });
      else res.destroy();
    }
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on("error", () => undefined);
    if (!this.authorized(req)) return refuseUpgrade(socket, unauthorized());
    const url = new URL(req.url ?? "/", "http://stand-in");
    const match = POD_PATH.exec(url.pathname);
    if (!match || match[3] !== "attach" || !match[2]) return refuseUpgrade(socket, noRoute());
    const [, namespace, name] = match as unknown as [string, string, string];
    const pod = this.store.get(namespace, name);
    if (!pod) return refuseUpgrade(socket, notFound("pods", name));
    await serveAttach(this.wss, req, socket, head, pod, this.kubelet.container(namespace, name), this.protocols, url);
  }
}
