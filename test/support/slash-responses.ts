import { createServer, type Server } from "node:http";
import { afterAll, beforeAll } from "vitest";

export interface SlashResponses {
  /** Where a slash command's response_url should point (set once the server listens). */
  base: string;
  /** Every ephemeral answer the bot sent to a response_url, by path, in order. */
  answered: Array<{ path: string; body: Record<string, unknown> }>;
}

/** A local server standing in for Slack's response_url endpoints, for the file's tests. */
export function useSlashResponses(): SlashResponses {
  const responses: SlashResponses = { base: "", answered: [] };
  let server: Server;
  beforeAll(async () => {
    server = createServer((req, res) => {
      let raw = "";
      req.setEncoding("utf8").on("data", (chunk: string) => (raw += chunk));
      req.on("end", () => {
        responses.answered.push({ path: req.url ?? "", body: JSON.parse(raw || "{}") });
        res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    responses.base = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server?.close(() => resolve()));
  });
  return responses;
}
