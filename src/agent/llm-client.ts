import OpenAI from "openai";
import type { LlmConfig } from "../config.js";

/** The OpenAI SDK pointed at OPENAI_BASE_URL: any Chat Completions-compatible server works. */
export function createLlmClient(config: LlmConfig): OpenAI {
  return new OpenAI({
    baseURL: config.OPENAI_BASE_URL,
    // Local servers (Ollama, vLLM) often need no key; the SDK insists on one.
    apiKey: config.OPENAI_API_KEY ?? "not-needed",
    maxRetries: config.OPENAI_MAX_RETRIES,
    timeout: config.OPENAI_TIMEOUT_SECONDS * 1000,
  });
}
