import { afterAll, beforeAll } from "vitest";
import { eventCallback, postToSlackApp } from "./stand-ins/slack-events.js";
import { startSlackStandIn, type SlackStandIn } from "./stand-ins/slack-web-api-stand-in.js";
import { startBot, type BotProcess } from "./bot-process.js";
import { usePipeline, type Pipeline } from "./pipeline-fixture.js";
import { freePort } from "./redis-server.js";

/** The signing secret the bot is started with; requests to it are signed with it. */
export const SLACK_TEST_SECRET = "8f742231b10e8888abcd99yyyzzz85a5";

type Delivered = ReturnType<typeof postToSlackApp>;

export interface SlackBotFixture {
  pipeline: Pipeline;
  /** The Slack Web API stand-in the bot and the worker talk to. */
  slack: SlackStandIn;
  bot: BotProcess;
  /** Where the bot takes Events API requests (HTTP mode). */
  eventsUrl: string;
  /** Delivers an event to the bot as Slack would: wrapped in an event_callback, signed (HTTP) or in an envelope (Socket Mode). */
  send(event: Record<string, unknown>, options?: Parameters<typeof postToSlackApp>[4]): Delivered;
  /** Delivers an interactivity payload (block_actions). */
  interact(payload: Record<string, unknown>): Delivered;
  /** Delivers a slash command. */
  command(payload: Record<string, string>): Delivered;
}

/**
 * A real `codebot bot` against the Slack stand-in, with Redis and a worker (usePipeline): Bolt's
 * HTTP receiver on a free port, or Socket Mode (`socketMode: true`: SLACK_APP_TOKEN set, events in
 * envelopes over the stand-in's WebSocket). The stand-in starts first, so the worker's environment
 * can point at it; everything is stopped after the file's tests. `before` runs first in beforeAll.
 */
export function useSlackBot(env: Record<string, string> = {}, before: () => Promise<void> = async () => undefined, options: { socketMode?: boolean } = {}): SlackBotFixture {
  const fixture = {} as SlackBotFixture;
  const slackReady = startSlackStandIn();
  fixture.pipeline = usePipeline({ USER_RATE_LIMIT_PER_MINUTE: "1000", ...env }, async () => {
    fixture.slack = await slackReady;
    const auth: Record<string, string> = options.socketMode ? { SLACK_APP_TOKEN: fixture.slack.appToken } : { SLACK_SIGNING_SECRET: SLACK_TEST_SECRET };
    return { SLACK_BOT_TOKEN: fixture.slack.botToken, SLACK_API_URL: fixture.slack.apiUrl, ...auth };
  });
  const viaSocket = async (type: "events_api" | "interactive" | "slash_commands", payload: object) => ({ status: 200, body: JSON.stringify(await fixture.slack.socketSend(type, payload)) });
  fixture.send = (event, signOptions) => {
    const payload = eventCallback(event, fixture.slack.teamId, fixture.slack.botUserId);
    return options.socketMode ? viaSocket("events_api", payload) : postToSlackApp(fixture.eventsUrl, payload, SLACK_TEST_SECRET, "event", signOptions);
  };
  fixture.interact = (payload) => (options.socketMode ? viaSocket("interactive", payload) : postToSlackApp(fixture.eventsUrl, payload, SLACK_TEST_SECRET, "interaction"));
  fixture.command = (payload) => (options.socketMode ? viaSocket("slash_commands", payload) : postToSlackApp(fixture.eventsUrl, payload, SLACK_TEST_SECRET, "command"));
  beforeAll(async () => {
    await before();
    const port = await freePort();
    fixture.eventsUrl = `http://127.0.0.1:${port}/slack/events`;
    fixture.bot = await startBot({ ...fixture.pipeline.env, PORT: String(port) });
  });
  afterAll(async () => {
    await fixture.bot?.kill();
    await fixture.slack?.close();
  });
  return fixture;
}
