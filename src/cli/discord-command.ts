import type { Config } from "../config.js";
import type { Logger } from "../log.js";
import { registerCommands } from "../platforms/discord/discord-commands.js";
import { createDiscordRest } from "../platforms/discord/discord-client.js";
import { CliError } from "./cli-error.js";

export const DISCORD_USAGE = "codebot discord register";

/** `codebot discord register`: installs the slash commands (/ask, /run, /reset, /files, /export) and "Run code" on messages. */
export async function discordCommand(args: string[], config: Config, _log: Logger): Promise<number> {
  if (args.join(" ") !== "register") throw new CliError(`Usage: ${DISCORD_USAGE}`);
  if (!config.DISCORD_TOKEN) throw new CliError("DISCORD_TOKEN is not set.");
  const { applicationId, count, slash } = await registerCommands(createDiscordRest(config));
  const others = count - slash;
  const extra = others ? ` and ${others} message command${others === 1 ? "" : "s"}` : "";
  process.stdout.write(`Registered ${slash} slash commands${extra} for application ${applicationId} (global commands may take a minute to appear).\n`);
  return 0;
}
