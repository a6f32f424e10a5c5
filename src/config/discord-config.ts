import { z } from "zod";
import { boolean, integer, list } from "./config-fields.js";

/** Discord (src/platforms/discord/): `[platforms.discord]` in .env.example. */
export const discordSchema = z.object({
  DISCORD_TOKEN: z.string().min(1).optional(),
  DISCORD_API_URL: z.string().url().optional(),
  DISCORD_ALLOWED_GUILDS: list(),
  DISCORD_ALLOWED_CHANNELS: list(),
  DISCORD_ALLOWED_USERS: list(),
  DISCORD_ALLOW_DMS: boolean(true),
  DISCORD_MESSAGE_CONTENT: boolean(false),
  DISCORD_MAX_UPLOAD_MB: integer(10, 1, 500),
});

export type DiscordConfig = Readonly<z.infer<typeof discordSchema>>;
