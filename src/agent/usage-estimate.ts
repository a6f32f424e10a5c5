import type { ChatCompletionMessageParam, ChatCompletionTool } from "openai/resources/chat/completions";
import type { TokenUsage } from "../core/token-usage.js";

/**
 * What a model call cost when the endpoint never said (a stream cut before its usage chunk, a server
 * that doesn't report usage): an estimate, so that a call the endpoint has read and answered is
 * never free against a budget.
 *
 * How it is estimated: about four characters a token, OpenAI's rule of thumb for English text and
 * code (its tokenizers give 3.5 to 4.5 on such text). The prompt is every text the request carried
 * (message contents, tool calls' names and arguments, the tool's definition) plus a few tokens per
 * message for the chat format's framing; an attached image counts as a fixed 765 tokens (what
 * OpenAI charges for a 512 px image in high detail), not as its base64 text. The completion is the
 * characters received before the cut: content deltas, tool calls' names and argument deltas.
 */

const CHARS_PER_TOKEN = 4;
/** The chat format's framing of one message (role, separators), in tokens. */
const TOKENS_PER_MESSAGE = 4;
/** An attached image, in tokens. */
const TOKENS_PER_IMAGE = 765;

const tokensOf = (chars: number) => Math.ceil(chars / CHARS_PER_TOKEN);

function contentChars(content: ChatCompletionMessageParam["content"]): { chars: number; images: number } {
  if (content === null || content === undefined) return { chars: 0, images: 0 };
  if (typeof content === "string") return { chars: content.length, images: 0 };
  let chars = 0;
  let images = 0;
  for (const part of content) {
    if (part.type === "text") chars += part.text.length;
    else if (part.type === "image_url") images++;
    else if (part.type === "refusal") chars += part.refusal.length;
    else chars += JSON.stringify(part).length;
  }
  return { chars, images };
}

/** The prompt of a call, in tokens (an estimate: see above). */
export function estimatePromptTokens(messages: readonly ChatCompletionMessageParam[], tools: readonly ChatCompletionTool[] = []): number {
  let chars = JSON.stringify(tools).length;
  let images = 0;
  for (const message of messages) {
    const counted = contentChars(message.content);
    chars += counted.chars;
    images += counted.images;
    if (message.role === "assistant") {
      for (const call of message.tool_calls ?? []) chars += call.type === "function" ? call.function.name.length + call.function.arguments.length : JSON.stringify(call).length;
    }
  }
  return tokensOf(chars) + messages.length * TOKENS_PER_MESSAGE + images * TOKENS_PER_IMAGE;
}

/** What a call cost from its prompt and the characters of answer received (an estimate: see above). */
export function estimateUsage(messages: readonly ChatCompletionMessageParam[], tools: readonly ChatCompletionTool[], receivedChars: number): TokenUsage {
  return { prompt: estimatePromptTokens(messages, tools), completion: tokensOf(receivedChars) };
}
