import { z } from "zod";
import { isPlatformUser } from "../core/platform-names.js";
import { integer, list } from "./config-fields.js";

/** What the bot's intake applies on every platform (src/bot/): `[chat]` in .env.example. */
export const chatSchema = z.object({
  USER_RATE_LIMIT_PER_MINUTE: integer(10, 1, 10_000),
  /**
   * People who may stop anyone's request in chat (everyone else only their own): comma-separated
   * `platform:userId`, e.g. `slack:U0123ABCD,discord:123456789012345678`.
   */
  ADMIN_USERS: list().refine((ids) => ids.every(isPlatformUser), "comma-separated platform:userId entries, e.g. slack:U0123ABCD,discord:123456789012345678"),
});

export type ChatConfig = Readonly<z.infer<typeof chatSchema>>;
