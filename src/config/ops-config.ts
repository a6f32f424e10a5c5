import { z } from "zod";
import { integer, token } from "./config-fields.js";

/** The ops endpoints, /metrics, /healthz and /readyz (src/ops/): `[ops]` in .env.example. */
export const opsSchema = z.object({
  /** The worker's /metrics, /healthz and /readyz (src/ops/); 0: not served. */
  METRICS_PORT: integer(9464, 0, 65535),
  /** The bot's /metrics, /healthz and /readyz, on a port of their own (never PORT, Slack's public one); 0: not served. */
  BOT_METRICS_PORT: integer(9465, 0, 65535),
  METRICS_HOST: z.string().min(1).default("0.0.0.0"),
  /** When set, the worker's and the bot's ops endpoints answer only `Authorization: Bearer <METRICS_TOKEN>`. */
  METRICS_TOKEN: token().regex(/^[\x21-\x7e]+$/, "printable characters without spaces").optional(),
});

export type OpsConfig = Readonly<z.infer<typeof opsSchema>>;
