import { Duplex, PassThrough, type Writable } from "node:stream";
import { Attach, type KubeConfig } from "@kubernetes/client-node";
import { SandboxError } from "../sandbox-error.js";
import type { SupervisorStream } from "../sandbox-handle.js";
import { CONTAINER } from "./pod-spec.js";

/** What a write may leave queued on the WebSocket before the next one waits. */
const HIGH_WATER_BYTES = 4 * 1024 * 1024;

type Socket = { readonly bufferedAmount: number; readonly readyState: number; close(): void; on(event: string, listener: (...args: unknown[]) => void): unknown };

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Attaches to the supervisor of a pod through the API server's attach subresource, with the
 * client's own Attach (a WebSocket of v5.channel.k8s.io, or v4: the client offers both, the server
 * picks): what is written goes to the supervisor's stdin as channel 0; channels 1 and 2 are its
 * stdout and stderr, passed on by demux. The stream ends when the socket closes (the pod ended, the
 * server went away); destroying it closes the socket and leaves the pod running.
 */
export async function attachToPod(kc: KubeConfig, namespace: string, pod: string): Promise<SupervisorStream> {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let socket: Socket;
  try {
    socket = (await new Attach(kc).attach(namespace, pod, CONTAINER, stdout, stderr, stdin, false)) as unknown as Socket;
  } catch (error) {
    throw new SandboxError("RUNNER_UNRESPONSIVE", `Could not attach to sandbox pod ${pod}: ${String((error as Error)?.message ?? error).slice(0, 200)}`, { cause: error });
  }
  const stream = new Duplex({
    async write(chunk: Buffer, _encoding, done) {
      stdin.write(chunk);
      while (socket.bufferedAmount > HIGH_WATER_BYTES && socket.readyState === 1) await pause(5);
      done();
    },
    read() {},
    destroy(error, done) {
      socket.close();
      done(error);
    },
  });
  socket.on("close", () => {
    stream.push(null);
    stream.destroy();
  });
  socket.on("error", (error) => stream.destroy(error as Error));
  return {
    stream,
    demux(out: Writable, err: Writable) {
      stdout.pipe(out);
      stderr.pipe(err);
    },
  };
}
