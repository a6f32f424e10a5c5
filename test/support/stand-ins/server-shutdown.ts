import type { Server } from "node:http";
import type { Socket } from "node:net";
import type { WebSocket, WebSocketServer } from "ws";

/** Closes a stand-in at once: its WebSocket clients, its keep-alive sockets, then the server. */
export function shutdown(server: Server, sockets: Set<Socket>, websockets?: { server: WebSocketServer; clients: Set<WebSocket> }): Promise<void> {
  return new Promise((resolve) => {
    for (const ws of websockets?.clients ?? []) ws.terminate();
    websockets?.server.close();
    for (const socket of sockets) socket.destroy();
    server.close(() => resolve());
  });
}
