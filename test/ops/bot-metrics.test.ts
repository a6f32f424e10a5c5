import { describe, expect, test } from "vitest";
import { useSlackBot } from "../support/slack-bot-fixture.js";
import { freePort } from "../support/redis-server.js";
import { appMention } from "../support/stand-ins/slack-events.js";
import { bearer, eventually, getJson, scrape, total } from "./prometheus-text.js";

const CHANNEL = "C0SECRETCHAN";
const ALICE = "U0SECRETALICE";
const SECRET_TEXT = "walrus-question-4417";
const TOKEN = "ops-token-5f2c9e1d7a3b48c6";
const PATHS = ["/metrics", "/healthz", "/readyz"];

// Slack's HTTP events on PORT (public); the ops endpoints on BOT_METRICS_PORT, behind METRICS_TOKEN.
const opsPort = await freePort();
const fixture = useSlackBot({ BOT_METRICS_PORT: String(opsPort), METRICS_HOST: "127.0.0.1", METRICS_TOKEN: TOKEN });
const publicBase = () => fixture.eventsUrl.replace(/\/slack\/events$/, "");
const opsBase = `http://127.0.0.1:${opsPort}`;

describe("the bot's public Slack port is not a way in", () => {
  test("PORT answers 404 for /metrics, /healthz and /readyz, with or without the token; it still takes Slack's events", async () => {
    for (const path of PATHS) {
      for (const method of ["GET", "HEAD"]) {
        for (const token of [undefined, TOKEN]) {
          const response = await fetch(`${publicBase()}${path}`, { method, headers: bearer(token) });
          expect(response.status, `${method} ${path}${token ? " with the token" : ""}`).toBe(404);
          const body = await response.text();
          expect(body).not.toMatch(/codebot_|process_resident|"status":"ok"/);
        }
      }
    }
    // The events endpoint is there: an unsigned request is refused by Bolt's signature check, not missing.
    expect((await fetch(fixture.eventsUrl, { method: "POST", body: "{}" })).status).toBe(401);
  });
});

describe("the bot's ops port (BOT_METRICS_PORT) with METRICS_TOKEN", () => {
  test("without the bearer token, or with another, every endpoint is a 401 that says nothing else", async () => {
    for (const path of PATHS) {
      for (const headers of [{}, bearer("ops-token-wrong-000000"), bearer(`${TOKEN}x`), { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString("base64")}` }, { authorization: TOKEN }]) {
        const response = await fetch(`${opsBase}${path}`, { headers });
        expect(response.status, `${path} ${JSON.stringify(headers)}`).toBe(401);
        expect(response.headers.get("www-authenticate")).toMatch(/^Bearer /);
        expect(await response.text()).toBe('{"status":"unauthorized"}');
      }
    }
  });

  test("with it, /healthz and /readyz answer; Redis and Slack are ready", async () => {
    expect(await getJson(`${opsBase}/healthz`, TOKEN)).toEqual({ status: 200, body: { status: "ok" } });
    const ready = await getJson(`${opsBase}/readyz`, TOKEN);
    expect(ready).toMatchObject({ status: 200, body: { status: "ok", away: [], checks: { redis: "ok", slack: "ok" } } });
    expect(JSON.stringify(ready.body)).not.toMatch(/xoxb-|redis:\/\//);
    expect(fixture.bot.logs()).toContain("metrics and health endpoints listening");
    expect(fixture.bot.logs()).not.toContain(TOKEN);
  });

  test("a mention counts as a queued Slack request, its re-delivery as a duplicate; no label names the user, channel or text", async () => {
    fixture.pipeline.llm.script({ content: "Counted." });
    const ts = "1710000001.000200";
    const event = appMention({ user: ALICE, text: `<@${fixture.slack.botUserId}> ${SECRET_TEXT}`, channel: CHANNEL, ts }, fixture.slack.teamId);
    expect((await fixture.send(event)).status).toBe(200);
    await fixture.slack.waitFor("reactions.add", (call) => call.args.timestamp === ts);
    await fixture.send(event, { retryNum: 1 });
    const { text, samples } = await eventually(async () => {
      const scraped = await scrape(opsBase, TOKEN);
      return total(scraped.samples, "codebot_requests_total", { platform: "slack", outcome: "duplicate" }) >= 1 ? scraped : false;
    });
    expect(total(samples, "codebot_requests_total", { platform: "slack", outcome: "queued" })).toBe(1);
    expect(samples.some((sample) => sample.name === "nodejs_heap_size_used_bytes" && sample.labels.role === "bot")).toBe(true);
    for (const secret of [ALICE, CHANNEL, SECRET_TEXT, ts, fixture.slack.teamId]) expect(text).not.toContain(secret);
    await fixture.slack.waitFor("chat.postMessage", (call) => call.args.thread_ts === ts);
  });
});
