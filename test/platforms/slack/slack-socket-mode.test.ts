import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startBot, type BotProcess } from "../../support/bot-process.js";
import { usePipeline } from "../../support/pipeline-fixture.js";
import { appMention, eventCallback } from "../../support/stand-ins/slack-events.js";
import { startSlackStandIn, type SlackStandIn } from "../../support/stand-ins/slack-web-api-stand-in.js";

let slack: SlackStandIn;
let bot: BotProcess;

const slackReady = startSlackStandIn();
const pipeline = usePipeline({}, async () => {
  slack = await slackReady;
  return { SLACK_BOT_TOKEN: slack.botToken, SLACK_APP_TOKEN: slack.appToken, SLACK_API_URL: slack.apiUrl };
});

beforeAll(async () => {
  bot = await startBot(pipeline.env);
});

afterAll(async () => {
  await bot?.kill();
  await slack?.close();
});

describe("Slack in Socket Mode (SLACK_APP_TOKEN set, no public URL)", () => {
  test("the bot connects over a WebSocket, acknowledges an event at once and answers in the thread", async () => {
    expect(bot.logs()).toMatch(/"mode":"socket".*"msg":"slack connected"/);
    expect(slack.callsTo("apps.connections.open")[0]?.token).toBe(slack.appToken);
    const ts = "1720000000.000100";
    const event = appMention({ user: "U0ALICE001", text: `<@${slack.botUserId}> \`\`\`python\nprint('over a socket')\n\`\`\``, channel: "C0DATATEAM", ts }, slack.teamId);
    const ack = await slack.socketSend("events_api", eventCallback(event, slack.teamId, slack.botUserId));
    expect(ack.envelope_id).toMatch(/^[0-9a-f]{16}$/);
    const answer = await slack.waitFor("chat.update", (call) => String(call.args.text).includes("over a socket"));
    expect(answer.args.channel).toBe("C0DATATEAM");
    expect(slack.callsTo("chat.postMessage").find((call) => call.args.channel === "C0DATATEAM")?.args.thread_ts).toBe(ts);
  });
});
