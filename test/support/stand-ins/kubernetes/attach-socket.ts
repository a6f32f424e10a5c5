import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { Writable } from "node:stream";
import type Docker from "dockerode";
import { WebSocketServer, type WebSocket } from "ws";
import { badRequest, notFound, type Status } from "./api-status.js";
import type { PodObject } from "./pod-store.js";

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const ERROR = 3;
const RESIZE = 4;
const CLOSE = 255;

export const ATTACH_PROTOCOLS = ["v5.channel.k8s.io", "v4.channel.k8s.io"] as const;

/** Writes an HTTP error (a Status) on a socket whose upgrade is refused. */
export function refuseUpgrade(socket: Duplex, status: Status): void {
  const body = JSON.stringify(status);
  socket.end(`HTTP/1.1 ${status.code} ${status.reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}

/** The first protocol of the client's that the stand-in speaks, as the API server picks it (the client's order). */
export function pickProtocol(req: IncomingMessage, supported: readonly string[]): string | undefined {
  const offered = String(req.headers["sec-websocket-protocol"] ?? "").split(",").map((name) => name.trim());
  return offered.find((name) => supported.includes(name));
}

const channelWriter = (socket: WebSocket, channel: number) =>
  new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (socket.readyState !== socket.OPEN) return done();
      socket.send(Buffer.concat([Buffer.from([channel]), chunk]), done);
    },
  });

/**
 * The attach subresource as the kubelet serves it through the API server: a WebSocket of the
 * channel subprotocol (v5.channel.k8s.io, or v4), each binary message one channel byte and its
 * data: 0 stdin (to the container's), 1 stdout, 2 stderr, 3 the error channel (one metav1.Status
 * when the container ends: Success, or NonZeroExitCode with its ExitCode cause), 4 resize
 * (ignored: no TTY), and with v5 255 "close" (the client closes its stdin: the container's stays
 * open, as with stdinOnce false). Detaching leaves the container running.
 */
export async function serveAttach(wss: WebSocketServer, req: IncomingMessage, socket: Duplex, head: Buffer, pod: PodObject, container: Docker.Container | undefined, protocols: readonly string[], url: URL): Promise<void> {
  const protocol = pickProtocol(req, protocols);
  if (!protocol) return refuseUpgrade(socket, badRequest(`the server supports none of the offered subprotocols; it speaks ${protocols.join(", ")}`));
  const wanted = pod.spec.containers[0].name;
  const named = url.searchParams.get("container");
  if (named && named !== wanted) return refuseUpgrade(socket, badRequest(`container ${named} is not valid for pod ${pod.metadata.name}`));
  if (pod.status.phase !== "Running" || !container) {
    return refuseUpgrade(socket, pod.status.phase === "Pending" ? badRequest(`pod ${pod.metadata.name} does not have a host assigned`) : badRequest(`cannot attach to a container in a completed pod; current phase is ${pod.status.phase}`));
  }
  if (!pod.spec.containers[0].stdin && url.searchParams.get("stdin") === "true") return refuseUpgrade(socket, badRequest(`stdin is not enabled for container ${wanted}`));
  let stream: Duplex;
  try {
    stream = (await container.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true })) as Duplex;
  } catch {
    return refuseUpgrade(socket, notFound("pods", pod.metadata.name));
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    const v5 = ws.protocol === "v5.channel.k8s.io";
    let stdinOpen = url.searchParams.get("stdin") === "true";
    container.modem.demuxStream(stream, channelWriter(ws, STDOUT), channelWriter(ws, STDERR));
    ws.on("message", (data: Buffer, isBinary) => {
      const message = isBinary ? data : Buffer.from(data.toString(), "utf8");
      if (message.length === 0) return;
      const channel = message[0];
      if (channel === STDIN && stdinOpen) stream.write(message.subarray(1));
      else if (channel === CLOSE && v5 && message[1] === STDIN) stdinOpen = false;
      else if (channel === RESIZE) return;
    });
    const ended = () => {
      if (ws.readyState !== ws.OPEN) return;
      void container.inspect().then(
        (info) => info.State.ExitCode,
        () => 137,
      ).then((code) => {
        const status = code === 0 ? { metadata: {}, status: "Success" } : { metadata: {}, status: "Failure", message: `command terminated with non-zero exit code: error executing command, exit status ${code}`, reason: "NonZeroExitCode", details: { causes: [{ reason: "ExitCode", message: String(code) }] } };
        if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.from([ERROR]), Buffer.from(JSON.stringify(status))]), () => ws.close(1000));
      });
    };
    stream.on("end", ended);
    stream.on("error", ended);
    ws.on("close", () => stream.destroy());
  });
}
