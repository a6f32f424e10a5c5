import { z } from "zod";
import { boolean, integer } from "./config-fields.js";

/** The model endpoint (src/agent/llm-client.ts): `[llm]` in .env.example. */
export const llmSchema = z.object({
  OPENAI_BASE_URL: z.string().url().optional(),
  OPENAI_API_KEY: z.string().min(1).optional(),
  OPENAI_MODEL: z.string().min(1).default("gpt-4o-mini"),
  OPENAI_STREAM: boolean(true),
  OPENAI_VISION: boolean(false),
  OPENAI_MAX_RETRIES: integer(3, 0, 10),
  OPENAI_TIMEOUT_SECONDS: integer(120, 1, 3600),
  OUTAGE_WAIT_SECONDS: integer(120, 0, 3600),
  MODEL_CONTEXT_TOKENS: integer(32000, 2000, 2_000_000),
});

export type LlmConfig = Readonly<z.infer<typeof llmSchema>>;
