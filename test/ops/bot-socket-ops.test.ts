import { describe, expect, test } from "vitest";
import { useSlackBot } from "../helpers/slack-bot-fixture.js";
import { eventually, getJson, scrape } from "./prometheus-text.js";

// Socket Mode: Bolt holds no port, so the bot opens PORT for its endpoints alone (METRICS_PORT not 0).
const fixture = useSlackBot({ METRICS_PORT: "9464" }, async () => undefined, { socketMode: true });
const base = () => fixture.eventsUrl.replace(/\/slack\/events$/, "");

describe("the bot's endpoints in Socket Mode", () => {
  test("a server of its own on PORT serves /healthz, /readyz and /metrics", async () => {
    expect(await getJson(`${base()}/healthz`)).toEqual({ status: 200, body: { status: "ok" } });
    expect(await getJson(`${base()}/readyz`)).toMatchObject({ status: 200, body: { status: "ok", checks: { redis: "ok", slack: "ok" } } });
    const { samples } = await scrape(base());
    expect(samples.some((sample) => sample.name === "process_resident_memory_bytes" && sample.labels.role === "bot")).toBe(true);
    expect(fixture.bot.logs()).toContain("metrics and health endpoints listening");
  });
});

describe("readiness follows the Socket Mode connection", () => {
  test("Slack's WebSocket dropped and refused: /readyz is 503 naming slack; back once Bolt reconnects", async () => {
    fixture.slack.online(false);
    const away = await eventually(async () => {
      const ready = await getJson(`${base()}/readyz`);
      return ready.status === 503 ? ready : false;
    });
    expect(away.body).toMatchObject({ status: "unavailable", away: ["slack"], checks: { redis: "ok" } });
    fixture.slack.online(true);
    await eventually(async () => (await getJson(`${base()}/readyz`)).status === 200 || false, 60_000);
  });
});
