import { afterAll, beforeAll } from "vitest";
import { eventCallback, postToSlackApp } from "../stand-ins/slack-events.js";
import { startSlackStandIn, type SlackStandIn } from "../stand-ins/slack-web-api-stand-in.js";
import { startBot, type BotProcess } from "./bot-process.js";
import { usePipeline, type Pipeline } from "./pipeline-fixture.js";
import { freePort } from "./redis-server.js";

/** The signing secret the bot is started with; requests to it are signed with it. */
export const SLACK_TEST_SECRET = "8f742231b10e8888abcd99yyyzzz85a5";

export interface SlackBotFixture {
  pipeline: Pipeline;
  /** The Slack Web API stand-in the bot and the worker talk to. */
  slack: SlackStandIn;
  bot: BotProcess;
  /** Where the bot takes Events API requests. */
  eventsUrl: string;
  /** Delivers an event to the bot as Slack would: wrapped in an event_callback, signed. */
  send(event: Record<string, unknown>, options?: Parameters<typeof postToSlackApp>[4]): ReturnType<typeof postToSlackApp>;
}

/**
 * A real `codebot bot` (Bolt's HTTP receiver on a free port) against the Slack stand-in, with Redis
 * and a worker (usePipeline). The stand-in starts first, so the worker's environment can point at
 * it; everything is stopped after the file's tests. `before` runs first in beforeAll.
 */
export function useSlackBot(env: Record<string, string> = {}, before: () => Promise<void> = async () => undefined): SlackBotFixture {
  const fixture = {} as SlackBotFixture;
  const slackReady = startSlackStandIn();
  fixture.pipeline = usePipeline({ USER_RATE_LIMIT_PER_MINUTE: "1000", ...env }, async () => {
    fixture.slack = await slackReady;
    return { SLACK_BOT_TOKEN: fixture.slack.botToken, SLACK_SIGNING_SECRET: SLACK_TEST_SECRET, SLACK_API_URL: fixture.slack.apiUrl };
  });
  fixture.send = (event, options) =>
    postToSlackApp(fixture.eventsUrl, eventCallback(event, fixture.slack.teamId, fixture.slack.botUserId), SLACK_TEST_SECRET, "event", options);
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
