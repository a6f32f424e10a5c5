import { timed } from "../core/turn-spans.js";
import type OpenAI from "openai";
import type { ChatCompletionMessage, ChatCompletionMessageParam, ChatCompletionContentPart } from "openai/resources/chat/completions";
import type { AnswerEvent } from "../core/answer-events.js";
import type { ExecutionResult } from "../core/execution-result.js";
import type { OutgoingFile, StatusUpdate } from "../core/reply.js";
import { TurnFailure } from "../core/turn-failure.js";
import { isTransientLlmError, llmFailure } from "./llm-errors.js";
import { rideOut } from "./ride-out.js";
import { stepOutcome } from "./step-outcome.js";
import { WrittenText } from "./written-text.js";
import { CallMeter } from "./call-meter.js";
import { streamedCompletion } from "./streamed-completion.js";
import { TurnTranscript } from "./turn-transcript.js";
import { parsePythonArguments, PYTHON_TOOL, PYTHON_TOOL_NAME, toolOutput } from "./python-tool.js";
import type { TokenUsage } from "../core/token-usage.js";
import type { ModelMetrics } from "../ops/turn-metrics.js";

export interface AgentSettings {
  model: string;
  stream: boolean;
  maxRetries: number;
  maxSteps: number;
  maxTokens: number;
  toolOutputMaxChars: number;
  /**
   * How long a turn rides out a model outage (unreachable, 5xx, 429) after the SDK's own retries,
   * retrying with backoff and saying so in its status, before it fails. 0: not at all.
   */
  outageWaitMs?: number;
}



export interface AgentTurnInput {
  systemPrompt: string;
  history: ChatCompletionMessageParam[];
  /** The user's message as the model reads it (name, text, attachment list). */
  userText: string;
  /** Images the user attached, shown to a vision model. */
  userImages: OutgoingFile[];
  signal: AbortSignal;
  status(update: StatusUpdate): Promise<void>;
  /** The answer as it is written: text deltas and code steps (never awaited by the model's stream). */
  emit?(event: AnswerEvent): void;
  execute(code: string, signal: AbortSignal): Promise<ExecutionResult>;
  /** Where the model's tokens are added up call by call (a turn's tally); none: a fresh count. */
  usage?: TokenUsage;
  /**
   * Told what each model call cost as soon as it ends, completed or cut (a stopped or failed call
   * that the endpoint had is charged too: see CallMeter), so budgets are charged call by call.
   */
  charge?(usage: TokenUsage): void;
  /** Tokens earlier attempts of this turn spent (its worker died): the turn's token budget counts them. */
  tokensSpentBefore?: number;
  /** Where the turn is written down as it happens, for memory (also when it ends early); none: a fresh one. */
  transcript?: TurnTranscript;
}

export type StopReason = "answer" | "steps" | "tokens";

export interface AgentTurnOutput {
  markdown: string;
  executions: Array<{ code: string; result: ExecutionResult }>;
  /** The turn as it is remembered: text only, tool results already clipped (the transcript's messages). */
  remembered: ChatCompletionMessageParam[];
  usage: TokenUsage;
  stop: StopReason;
}

const LIMIT_NOTES: Record<Exclude<StopReason, "answer">, (settings: AgentSettings) => string> = {
  steps: (settings) => `_Stopped: this request reached its limit of ${settings.maxSteps} code steps. Ask me to continue if you need more._`,
  tokens: (settings) => `_Stopped: this request reached its budget of ${settings.maxTokens} model tokens._`,
};

/** The tool-calling loop: the model writes code, the session runs it, until an answer or a budget. */
export class AgentLoop {
  constructor(
    private readonly llm: OpenAI,
    private readonly settings: AgentSettings,
    /** Counts model calls, tokens and errors (the worker's /metrics); none in tests and the CLI. */
    private readonly metrics?: ModelMetrics,
  ) {}

  /** The model the loop asks, as the answer's facts name it. */
  get model(): string {
    return this.settings.model;
  }

  async run(input: AgentTurnInput): Promise<AgentTurnOutput> {
    const userMessage: ChatCompletionMessageParam = { role: "user", content: input.userText };
    const transcript = input.transcript ?? new TurnTranscript();
    transcript.add(userMessage);
    const remembered = transcript.messages;
    const messages: ChatCompletionMessageParam[] = [
      { role: "system", content: input.systemPrompt },
      ...input.history,
      input.userImages.length ? { role: "user", content: withImages(input.userText, input.userImages) } : userMessage,
    ];
    const usage: TokenUsage = input.usage ?? { prompt: 0, completion: 0 };
    const executions: AgentTurnOutput["executions"] = [];
    const written = new WrittenText(input.emit);
    const spentBefore = input.tokensSpentBefore ?? 0;
    for (;;) {
      const reply = await timed("model call", () => this.completeRidingOutages(messages, input, usage, written, transcript));
      const calls = reply.tool_calls ?? [];
      const assistant: ChatCompletionMessageParam = { role: "assistant", content: reply.content ?? null, ...(calls.length ? { tool_calls: calls } : {}) };
      messages.push(assistant);
      transcript.add(assistant);
      if (!calls.length) return { markdown: written.text() || "_(The model gave no answer.)_", executions, remembered, usage, stop: "answer" };
      for (const call of calls) {
        const { output, stopped } = await this.runTool(call, input, executions);
        const toolMessage: ChatCompletionMessageParam = { role: "tool", tool_call_id: call.id, content: output };
        messages.push(toolMessage);
        transcript.add(toolMessage);
        // Stopped while its code ran: the step's result (output so far) is remembered, the rest isn't run.
        if (stopped) throw cancelled(input.signal);
      }
      const stop = executions.length >= this.settings.maxSteps ? "steps" : spentBefore + usage.prompt + usage.completion >= this.settings.maxTokens ? "tokens" : undefined;
      if (stop) {
        const markdown = [written.text(), LIMIT_NOTES[stop](this.settings)].filter(Boolean).join("\n\n");
        transcript.add({ role: "assistant", content: markdown });
        return { markdown, executions, remembered, usage, stop };
      }
    }
  }

  private async runTool(
    call: NonNullable<ChatCompletionMessage["tool_calls"]>[number],
    input: AgentTurnInput,
    executions: AgentTurnOutput["executions"],
  ): Promise<{ output: string; stopped: boolean }> {
    if (call.type !== "function" || call.function.name !== PYTHON_TOOL_NAME) {
      return { output: `error: there is no tool named ${call.type === "function" ? call.function.name : call.type}; use "python".`, stopped: false };
    }
    const code = parsePythonArguments(call.function.arguments);
    const step = executions.length + 1;
    await timed("status", () => input.status({ phase: "running", step, text: `Running code (step ${step})…` }));
    input.emit?.({ type: "step-started", step, code });
    const result = await input.execute(code, input.signal);
    executions.push({ code, result });
    input.emit?.({ type: "step-finished", step, status: result.status, outcome: stepOutcome(result), durationMs: result.durationMs });
    return { output: toolOutput(result, this.settings.toolOutputMaxChars), stopped: result.status === "cancelled" || input.signal.aborted };
  }

  /** One model call; while the endpoint is out, waits with a visible status and retries (outageWaitMs). */
  private completeRidingOutages(messages: ChatCompletionMessageParam[], input: AgentTurnInput, usage: TokenUsage, written: WrittenText, transcript: TurnTranscript): Promise<ChatCompletionMessage> {
    return rideOut((attempt) => this.complete(messages, input, usage, written, transcript, attempt), {
      waitMs: this.settings.outageWaitMs ?? 0,
      signal: input.signal,
      transient: (error) => isTransientLlmError(error instanceof TurnFailure ? error.cause : undefined),
      onWait: () => input.status({ phase: "thinking", text: "Waiting for the model endpoint (it isn't answering); retrying…" }),
    });
  }

  /**
   * One model call. Streamed, its words reach the people as they come; a call that fails midway is
   * retried from scratch, and what it had written is taken back (the next attempt writes it again).
   * Whatever the call cost is charged as it ends, completed, failed or stopped (see CallMeter).
   */
  private async complete(
    messages: ChatCompletionMessageParam[],
    input: AgentTurnInput,
    usage: TokenUsage,
    written: WrittenText,
    transcript: TurnTranscript,
    tries = 1,
  ): Promise<ChatCompletionMessage> {
    const { signal } = input;
    if (signal.aborted) throw cancelled(signal);
    const body = { model: this.settings.model, messages, tools: [PYTHON_TOOL] };
    const segment = written.segment();
    const meter = new CallMeter(messages, body.tools);
    try {
      let completion;
      if (this.settings.stream) {
        completion = await streamedCompletion(this.llm, body, signal, {
          connected: () => meter.connected(),
          chunk: (chunk) => meter.chunk(chunk),
          content: (delta) => segment.add(delta),
        });
      } else {
        completion = await this.llm.chat.completions.create(body, { signal });
      }
      const spent = meter.completed(completion);
      this.spend(spent, input, usage);
      this.metrics?.modelCall(this.settings.model, spent);
      const message = completion.choices[0]?.message;
      if (!message) throw new TurnFailure("MODEL_UNAVAILABLE", "The model returned no message.");
      segment.finish(message.content ?? "");
      transcript.completed();
      return message;
    } catch (error) {
      segment.abandon();
      if (!(error instanceof TurnFailure)) {
        const spent = meter.failed(error, signal.aborted);
        if (spent) this.spend(spent, input, usage);
        transcript.cut(meter.text);
      }
      if (signal.aborted) throw cancelled(signal);
      if (error instanceof TurnFailure) throw error;
      const failure = llmFailure(error, tries * (this.settings.maxRetries + 1));
      this.metrics?.modelError(this.settings.model, failure.code);
      throw failure;
    }
  }

  /** Adds a call's cost to the turn's count and has it charged at once. */
  private spend(spent: TokenUsage, input: AgentTurnInput, usage: TokenUsage): void {
    usage.prompt += spent.prompt;
    usage.completion += spent.completion;
    input.charge?.(spent);
  }
}

function cancelled(signal: AbortSignal): TurnFailure {
  const reason = signal.reason instanceof Error ? signal.reason.message : "";
  return reason === "timeout"
    ? new TurnFailure("BUDGET_REACHED", "Stopped: this request ran past its time limit.")
    : new TurnFailure("CANCELLED", "Stopped: the request was cancelled.");
}

function withImages(text: string, images: OutgoingFile[]): ChatCompletionContentPart[] {
  return [
    { type: "text", text },
    ...images.map((image): ChatCompletionContentPart => ({ type: "image_url", image_url: { url: `data:${image.mime};base64,${image.data.toString("base64")}` } })),
  ];
}
