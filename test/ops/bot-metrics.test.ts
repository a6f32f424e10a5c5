import { describe, expect, test } from "vitest";
import { useSlackBot } from "../helpers/slack-bot-fixture.js";
import { appMention } from "../stand-ins/slack-events.js";
import { eventually, getJson, scrape, total } from "./prometheus-text.js";

const CHANNEL = "C0SECRETCHAN";
const ALICE = "U0SECRETALICE";
const SECRET_TEXT = "walrus-question-4417";

const fixture = useSlackBot();
const base = () => fixture.eventsUrl.replace(/\/slack\/events$/, "");

describe("the bot's /metrics, /healthz and /readyz, on PORT beside Slack's events", () => {
  test("/healthz and /readyz answer on Bolt's port; Redis and Slack are ready", async () => {
    expect(await getJson(`${base()}/healthz`)).toEqual({ status: 200, body: { status: "ok" } });
    const ready = await getJson(`${base()}/readyz`);
    expect(ready).toMatchObject({ status: 200, body: { status: "ok", away: [], checks: { redis: "ok", slack: "ok" } } });
    expect(JSON.stringify(ready.body)).not.toMatch(/xoxb-|redis:\/\//);
  });

  test("a mention counts as a queued Slack request, its re-delivery as a duplicate; no label names the user, channel or text", async () => {
    fixture.pipeline.llm.script({ content: "Counted." });
    const ts = "1710000001.000200";
    const event = appMention({ user: ALICE, text: `<@${fixture.slack.botUserId}> ${SECRET_TEXT}`, channel: CHANNEL, ts }, fixture.slack.teamId);
    expect((await fixture.send(event)).status).toBe(200);
    await fixture.slack.waitFor("reactions.add", (call) => call.args.timestamp === ts);
    await fixture.send(event, { retryNum: 1 });
    const { text, samples } = await eventually(async () => {
      const scraped = await scrape(base());
      return total(scraped.samples, "codebot_requests_total", { platform: "slack", outcome: "duplicate" }) >= 1 ? scraped : false;
    });
    expect(total(samples, "codebot_requests_total", { platform: "slack", outcome: "queued" })).toBe(1);
    expect(samples.some((sample) => sample.name === "nodejs_heap_size_used_bytes" && sample.labels.role === "bot")).toBe(true);
    for (const secret of [ALICE, CHANNEL, SECRET_TEXT, ts, fixture.slack.teamId]) expect(text).not.toContain(secret);
    await fixture.slack.waitFor("chat.postMessage", (call) => call.args.thread_ts === ts);
  });
});
