import { connect, createServer, type Server, type Socket } from "node:net";

/**
 * A TCP proxy in front of Redis that counts the client's commands (RESP arrays) and, once the
 * cutAfter-th command has reached Redis, cuts the connection before any reply gets back, and
 * refuses every connection after that: an enqueue interrupted at that exact point.
 */
export interface CuttingProxy {
  url: string;
  /** Commands that reached Redis through the proxy. */
  commands(): string[];
  close(): Promise<void>;
}

/** Splits complete RESP commands (arrays of bulk strings) off the front of buffer. */
function takeCommands(buffer: Buffer): { commands: Array<{ name: string; bytes: number }>; rest: Buffer } {
  const commands: Array<{ name: string; bytes: number }> = [];
  let offset = 0;
  for (;;) {
    const start = offset;
    const header = buffer.indexOf("\r\n", offset);
    if (header < 0 || buffer[offset] !== 0x2a) break; // '*'
    const count = Number(buffer.subarray(offset + 1, header).toString());
    offset = header + 2;
    let name = "";
    let complete = true;
    for (let i = 0; i < count; i++) {
      const lengthEnd = buffer.indexOf("\r\n", offset);
      if (lengthEnd < 0) {
        complete = false;
        break;
      }
      const length = Number(buffer.subarray(offset + 1, lengthEnd).toString());
      if (buffer.length < lengthEnd + 2 + length + 2) {
        complete = false;
        break;
      }
      if (i === 0) name = buffer.subarray(lengthEnd + 2, lengthEnd + 2 + length).toString().toUpperCase();
      offset = lengthEnd + 2 + length + 2;
    }
    if (!complete) {
      offset = start;
      break;
    }
    commands.push({ name, bytes: offset - start });
  }
  return { commands, rest: buffer.subarray(offset) };
}

export async function startCuttingProxy(redisUrl: string, cutAfter: number = Number.POSITIVE_INFINITY): Promise<CuttingProxy> {
  const target = new URL(redisUrl);
  const seen: string[] = [];
  const sockets = new Set<Socket>();
  let cut = false;
  const server: Server = createServer((client) => {
    sockets.add(client);
    if (cut) return void client.destroy();
    const upstream = connect(Number(target.port), target.hostname);
    sockets.add(upstream);
    let pending = Buffer.alloc(0);
    client.on("data", (chunk: Buffer) => {
      if (cut) return;
      const all = Buffer.concat([pending, chunk]);
      const { commands, rest } = takeCommands(all);
      let forward = 0;
      for (const command of commands) {
        forward += command.bytes;
        seen.push(command.name);
        if (seen.length >= cutAfter) {
          cut = true;
          break;
        }
      }
      upstream.write(all.subarray(0, forward));
      pending = cut ? Buffer.alloc(0) : rest;
      if (cut) {
        // Redis gets the command; the client never hears back, and can't reconnect.
        client.pause();
        setTimeout(() => {
          upstream.destroy();
          client.destroy();
        }, 50);
      }
    });
    upstream.on("data", (chunk: Buffer) => {
      if (!cut) client.write(chunk);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `redis://127.0.0.1:${port}`,
    commands: () => [...seen],
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
