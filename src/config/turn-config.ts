import { z } from "zod";
import { integer } from "./config-fields.js";

/** What one request may use (src/agent/): `[turn]` in .env.example. */
export const turnSchema = z.object({
  TURN_MAX_STEPS: integer(10, 1, 100),
  TURN_TIMEOUT_SECONDS: integer(600, 5, 24 * 3600),
  TURN_MAX_TOKENS: integer(200_000, 1000, 100_000_000),
  TOOL_OUTPUT_MAX_CHARS: integer(8000, 500, 1_000_000),
});

export type TurnConfig = Readonly<z.infer<typeof turnSchema>>;
