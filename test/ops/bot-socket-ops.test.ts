import { describe, expect, test } from "vitest";
import { useSlackBot } from "../support/slack-bot-fixture.js";
import { freePort } from "../support/redis-server.js";
import { eventually, getJson, scrape } from "./prometheus-text.js";

// Socket Mode: Bolt holds no port; the bot's endpoints are on BOT_METRICS_PORT, open (no METRICS_TOKEN).
const opsPort = await freePort();
const fixture = useSlackBot({ BOT_METRICS_PORT: String(opsPort), METRICS_HOST: "127.0.0.1" }, async () => undefined, { socketMode: true });
const base = `http://127.0.0.1:${opsPort}`;

describe("the bot's endpoints in Socket Mode", () => {
  test("a server of its own on BOT_METRICS_PORT serves /healthz, /readyz and /metrics; PORT is not opened", async () => {
    expect(await getJson(`${base}/healthz`)).toEqual({ status: 200, body: { status: "ok" } });
    expect(await getJson(`${base}/readyz`)).toMatchObject({ status: 200, body: { status: "ok", checks: { redis: "ok", slack: "ok" } } });
    const { samples } = await scrape(base);
    expect(samples.some((sample) => sample.name === "process_resident_memory_bytes" && sample.labels.role === "bot")).toBe(true);
    expect(fixture.bot.logs()).toContain("metrics and health endpoints listening");
    // Any other path of the ops port is a 404; and nothing listens on PORT in Socket Mode.
    expect((await fetch(`${base}/slack/events`)).status).toBe(404);
    await expect(fetch(`${fixture.eventsUrl.replace(/\/slack\/events$/, "")}/metrics`)).rejects.toThrow();
  });
});

describe("readiness follows the Socket Mode connection", () => {
  test("Slack's WebSocket dropped and refused: /readyz is 503 naming slack; back once Bolt reconnects", async () => {
    fixture.slack.online(false);
    const away = await eventually(async () => {
      const ready = await getJson(`${base}/readyz`);
      return ready.status === 503 ? ready : false;
    });
    expect(away.body).toMatchObject({ status: "unavailable", away: ["slack"], checks: { redis: "ok" } });
    fixture.slack.online(true);
    await eventually(async () => (await getJson(`${base}/readyz`)).status === 200 || false, 60_000);
  });
});
