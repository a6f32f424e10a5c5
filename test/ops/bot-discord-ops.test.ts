import { describe, expect, test } from "vitest";
import { useDiscordBot } from "../support/discord-bot-fixture.js";
import { freePort } from "../support/redis-server.js";
import { eventually, getJson } from "./prometheus-text.js";

// Discord only: the bot's endpoints on BOT_METRICS_PORT; PORT (Slack's) is never opened.
const port = await freePort();
const fixture = useDiscordBot({ BOT_METRICS_PORT: String(port), METRICS_HOST: "127.0.0.1" });
const readyz = () => getJson(`http://127.0.0.1:${port}/readyz`);

describe("the bot's readiness follows Discord's gateway", () => {
  test("ready while connected; the gateway dropped and refused: 503 naming discord; ready again once discord.js reconnects", async () => {
    expect(await readyz()).toMatchObject({ status: 200, body: { status: "ok", checks: { redis: "ok", discord: "ok" } } });
    fixture.discord.online(false);
    const away = await eventually(async () => {
      const ready = await readyz();
      return ready.status === 503 ? ready : false;
    });
    expect(away.body).toMatchObject({ away: ["discord"], checks: { redis: "ok" } });
    fixture.discord.online(true);
    await eventually(async () => (await readyz()).status === 200 || false, 60_000);
  });
});
