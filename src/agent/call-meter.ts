import OpenAI from "openai";
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionMessageParam, ChatCompletionTool } from "openai/resources/chat/completions";
import { estimateUsage } from "./usage-estimate.js";
import type { TokenUsage } from "../core/token-usage.js";

/**
 * What one model call cost, from what the endpoint sent: the usage it reported (a streamed call's
 * last chunk, a plain call's body), else an estimate (usage-estimate.ts) from the prompt and the
 * characters received. The model's text received so far is kept too, for a call that is cut.
 */
export class CallMeter {
  /** The answer's text received so far (streamed content deltas). */
  text = "";
  private chars = 0;
  private reported: TokenUsage | undefined;
  /** The endpoint started answering (its response headers came): it read the prompt. */
  private responded = false;

  constructor(
    private readonly messages: readonly ChatCompletionMessageParam[],
    private readonly tools: readonly ChatCompletionTool[],
  ) {}

  connected(): void {
    this.responded = true;
  }

  /** A chunk of a streamed answer. */
  chunk(chunk: ChatCompletionChunk): void {
    this.responded = true;
    if (chunk.usage) this.reported = { prompt: chunk.usage.prompt_tokens, completion: chunk.usage.completion_tokens };
    for (const choice of chunk.choices ?? []) {
      const delta = choice.delta;
      if (delta?.content) {
        this.text += delta.content;
        this.chars += delta.content.length;
      }
      if (delta?.refusal) this.chars += delta.refusal.length;
      for (const call of delta?.tool_calls ?? []) this.chars += (call.function?.name?.length ?? 0) + (call.function?.arguments?.length ?? 0);
    }
  }

  /** A completed call's cost: what the endpoint reported, or (a server that reports no usage) the estimate for its whole answer. */
  completed(completion: ChatCompletion): TokenUsage {
    if (completion.usage) return { prompt: completion.usage.prompt_tokens, completion: completion.usage.completion_tokens };
    if (this.reported) return this.reported;
    const message = completion.choices[0]?.message;
    const answerChars = (message?.content?.length ?? 0) + (message?.tool_calls ?? []).reduce((sum, call) => sum + (call.type === "function" ? call.function.name.length + call.function.arguments.length : 0), 0);
    return estimateUsage(this.messages, this.tools, Math.max(answerChars, this.chars));
  }

  /**
   * A failed or stopped call's cost, or undefined when it cost nothing. Charged: a call the endpoint
   * started answering (what it reported, else the estimate from the prompt and what came before the
   * cut), and a call cut while the endpoint had it (stopped, timed out: it read the prompt and may
   * bill it; the estimate is then the prompt's). Free: a call the endpoint refused with an error
   * status (no answer, nothing billed) or that never reached it (no connection).
   */
  failed(error: unknown, aborted: boolean): TokenUsage | undefined {
    if (this.reported) return this.reported;
    if (this.responded) return estimateUsage(this.messages, this.tools, this.chars);
    if (error instanceof OpenAI.APIError && error.status !== undefined) return undefined;
    if (aborted || error instanceof OpenAI.APIConnectionTimeoutError) return estimateUsage(this.messages, this.tools, 0);
    return undefined;
  }
}
