import { afterAll, beforeAll } from "vitest";
import { startDiscordStandIn, type DiscordStandIn } from "./stand-ins/discord-stand-in.js";
import { startBot, type BotProcess } from "./bot-process.js";
import { usePipeline, type Pipeline } from "./pipeline-fixture.js";

export interface DiscordBotFixture {
  pipeline: Pipeline;
  /** The Discord stand-in (REST and Gateway) the bot and the worker talk to. */
  discord: DiscordStandIn;
  bot: BotProcess;
}

/**
 * A real `codebot bot` connected to the Discord stand-in, with Redis and a worker (usePipeline).
 * The stand-in starts first, so the worker's environment can point at it; everything is stopped
 * after the file's tests.
 */
export function useDiscordBot(env: Record<string, string> = {}): DiscordBotFixture {
  const fixture = {} as DiscordBotFixture;
  const discordReady = startDiscordStandIn();
  fixture.pipeline = usePipeline({ USER_RATE_LIMIT_PER_MINUTE: "1000", ...env }, async () => {
    fixture.discord = await discordReady;
    return { DISCORD_TOKEN: fixture.discord.token, DISCORD_API_URL: fixture.discord.apiUrl };
  });
  beforeAll(async () => {
    fixture.bot = await startBot(fixture.pipeline.env);
    await fixture.discord.identified;
  });
  afterAll(async () => {
    await fixture.bot?.kill();
    await fixture.discord?.close();
  });
  return fixture;
}
