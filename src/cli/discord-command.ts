import type { DiscordConfig } from "../config.js";
import type { Logger } from "../log.js";
import { registerCommands } from "../platforms/discord/discord-commands.js";
import { createDiscordRest } from "../platforms/discord/discord-client.js";
import { CliError } from "./cli-error.js";
import { DISCORD_USAGE } from "./usages.js";

export { DISCORD_USAGE };

/** `codebot discord register`: installs the slash commands (/ask, /run, /reset, /files, /export) and "Run code" on messages. */
export async function discordCommand(args: string[], config: DiscordConfig, _log: Logger): Promise<number> {
  if (args.join(" ") !== "register") throw new CliError(`Usage: ${DISCORD_USAGE}`);
  if (!config.DISCORD_TOKEN) throw new CliError("DISCORD_TOKEN is not set.");
  const { applicationId, count, slash } = await registerCommands(createDiscordRest(config)).catch((error: unknown) => {
    throw explainDiscordError(error, config.DISCORD_API_URL ?? "https://discord.com/api");
  });
  const others = count - slash;
  const extra = others ? ` and ${others} message command${others === 1 ? "" : "s"}` : "";
  process.stdout.write(`Registered ${slash} slash commands${extra} for application ${applicationId} (global commands may take a minute to appear).\n`);
  return 0;
}

/** Discord's API out of reach, or refusing the token, in one line a person can act on. */
function explainDiscordError(error: unknown, api: string): unknown {
  const { code, status } = error as { code?: unknown; status?: unknown };
  if (typeof code === "string" && /^E[A-Z_]+$/.test(code)) return new CliError(`Cannot reach Discord's API at ${api} (${code}): check the network, or DISCORD_API_URL.`);
  if (status === 401) return new CliError("Discord refused the token (401 Unauthorized): check DISCORD_TOKEN (the bot's token, under Bot → Reset Token).");
  return error;
}
