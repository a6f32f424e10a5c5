import { z } from "zod";
import { boolean } from "./config-fields.js";

/** Logs (src/log.ts): `[log]` in .env.example. */
export const logSchema = z.object({
  /** Unset: "info" for long-running services, "warn" for one-shot commands. */
  LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).optional(),
  /** Each turn's audit line carries the message's text and the user's display name (never file contents). */
  LOG_CONTENT: boolean(false),
});

export type LogConfig = Readonly<z.infer<typeof logSchema>>;
