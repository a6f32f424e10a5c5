import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { chatRequestSchema } from "../../../src/core/chat-request.js";
import { TurnFailure } from "../../../src/core/turn-failure.js";
import { slackAttachments } from "../../../src/platforms/slack/slack-attachments.js";
import { startSlackStandIn, type SlackStandIn } from "../../support/stand-ins/slack-web-api-stand-in.js";

/**
 * The bot token goes only to Slack's file hosts (here: SLACK_API_URL's origin, the stand-in's).
 * A "foreign" server on another port records every request's headers.
 */
interface Recorder {
  url: string;
  seen: Array<{ path: string; headers: IncomingHttpHeaders }>;
  server: Server;
}

async function listen(handler: (path: string, res: import("node:http").ServerResponse, recorder: Recorder) => void): Promise<Recorder> {
  const recorder = { seen: [] } as unknown as Recorder;
  recorder.server = createServer((req, res) => {
    recorder.seen.push({ path: req.url ?? "", headers: req.headers });
    handler(req.url ?? "", res, recorder);
  });
  await new Promise<void>((resolve) => recorder.server.listen(0, "127.0.0.1", resolve));
  recorder.url = `http://127.0.0.1:${(recorder.server.address() as AddressInfo).port}`;
  return recorder;
}

let slack: SlackStandIn;
let foreign: Recorder;
/** Stands for SLACK_API_URL's host: redirects to the foreign server, or within itself. */
let home: Recorder;

beforeAll(async () => {
  slack = await startSlackStandIn();
  foreign = await listen((_path, res) => res.writeHead(200, { "content-type": "text/csv" }).end("foreign,bytes\n"));
  home = await listen((path, res) => {
    if (path === "/files-pri/away") return void res.writeHead(302, { location: `${foreign.url}/collect` }).end();
    if (path === "/files-pri/hop") return void res.writeHead(307, { location: "/files-pri/here" }).end();
    res.writeHead(200, { "content-type": "text/csv" }).end("home,bytes\n");
  });
});

afterAll(async () => {
  await slack?.close();
  for (const recorder of [foreign, home]) await new Promise((resolve) => recorder?.server.close(resolve));
});

const request = chatRequestSchema.parse({
  eventId: "slack:T1:C1:1.1",
  user: { id: "U1", name: "alice" },
  conversation: { platform: "slack", workspaceId: "T1", channelId: "C1", threadId: "1.1" },
  text: "hi",
  receivedAt: Date.now(),
});
const fetchFile = (apiUrl: string, url: string) => slackAttachments(slack.botToken, apiUrl).fetch(request, { name: "data.csv", size: 10, mime: "text/csv", url }, 1024 * 1024);

describe("the Slack bot token and file URLs", () => {
  test("a file on the stand-in (SLACK_API_URL's host) is fetched with the token", async () => {
    const file = slack.addFile({ name: "ok.csv", mimetype: "text/csv", content: "a,b\n1,2\n" });
    expect((await fetchFile(slack.apiUrl, file.url_private_download)).toString()).toBe("a,b\n1,2\n");
    expect(slack.downloads.at(-1)).toEqual({ path: expect.stringContaining("ok.csv"), authorized: true });
  });

  test("a file URL on any other host is refused with a clear message and never requested", async () => {
    const before = foreign.seen.length;
    const refused = await fetchFile(slack.apiUrl, `${foreign.url}/files-pri/T1-F1/download/data.csv`).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(TurnFailure);
    expect((refused as TurnFailure).code).toBe("FILE_UNAVAILABLE");
    expect((refused as TurnFailure).message).toMatch(/"data.csv" is not on Slack's file servers \(its address points at 127\.0\.0\.1:\d+\), so codebot did not fetch it\./);
    expect(foreign.seen.length).toBe(before);
  });

  test("a redirect to another host is followed without the token", async () => {
    const before = foreign.seen.length;
    expect((await fetchFile(`${home.url}/api/`, `${home.url}/files-pri/away`)).toString()).toBe("foreign,bytes\n");
    expect(home.seen.at(-1)?.headers.authorization).toBe(`Bearer ${slack.botToken}`);
    const reached = foreign.seen.slice(before);
    expect(reached).toHaveLength(1);
    expect(reached[0]?.headers.authorization).toBeUndefined();
  });

  test("a redirect within the allowed host keeps the token", async () => {
    expect((await fetchFile(`${home.url}/api/`, `${home.url}/files-pri/hop`)).toString()).toBe("home,bytes\n");
    expect(home.seen.slice(-2).map((seen) => [seen.path, seen.headers.authorization])).toEqual([
      ["/files-pri/hop", `Bearer ${slack.botToken}`],
      ["/files-pri/here", `Bearer ${slack.botToken}`],
    ]);
  });

  test("without SLACK_API_URL, only https Slack hosts get the token: a local URL is refused", async () => {
    const refused = await slackAttachments(slack.botToken).fetch(request, { name: "x.csv", size: 1, mime: "text/csv", url: `${home.url}/files-pri/here` }, 1024).catch((error: unknown) => error);
    expect((refused as TurnFailure).message).toContain("is not on Slack's file servers");
  });
});
