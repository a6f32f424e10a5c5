import type { Server } from "node:http";
import type { Logger } from "../log.js";

/** A server listening, and how to stop it (open connections included). */
export interface ListeningServer {
  port: number;
  close(): Promise<void>;
}

/**
 * Starts listening; a port that can't be had (in use, not permitted) is never fatal: one warning
 * naming what runs without it, and undefined. The server never keeps the process alive by itself.
 */
export async function listenOrWarn(server: Server, { port, host }: { port: number; host: string }, log: Logger, what: string): Promise<ListeningServer | undefined> {
  const listening = await new Promise<boolean>((resolve) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      log.warn({ port, host, code: error.code }, `${what} could not listen (is the port in use?): running without it`);
      resolve(false);
    });
    server.listen(port, host, () => resolve(true));
  });
  if (!listening) return undefined;
  server.unref();
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
