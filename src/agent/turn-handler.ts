import type { ChatCompletionMessageParam } from "openai/resources/chat/completions";
import type { AttachmentSource } from "../core/attachment-source.js";
import { displayNote } from "../core/display-text.js";
import { threadKey, type ChatRequest, type Platform } from "../core/chat-request.js";
import type { ExecutionResult } from "../core/execution-result.js";
import type { AnswerStep } from "../core/answer-events.js";
import { commandReply, type AnswerFacts, type Delivery, type OutgoingFile } from "../core/reply.js";
import { TurnFailure } from "../core/turn-failure.js";
import type { Logger } from "../log.js";
import type { Sandboxes } from "../sandbox/sandboxes.js";
import type { AgentLoop } from "./agent-loop.js";
import { executionMarkdown, noteMarkdown } from "./execution-markdown.js";
import { fencedPython } from "../core/markdown/fenced-code.js";
import { clip } from "./python-tool.js";
import { systemPrompt, type PromptFacts } from "./system-prompt.js";
import type { ThreadMemory } from "./thread-memory.js";
import { SandboxError } from "../sandbox/sandbox-error.js";
import { rideOut } from "./ride-out.js";
import { EventRelay } from "./event-relay.js";
import { fullOutputFile, fullOutputName } from "./full-output.js";
import { stepOutcome } from "./step-outcome.js";
import { collectOutputs } from "./turn-files.js";
import type { UsageLedger } from "./usage-ledger.js";
import { TurnSpending } from "./turn-spending.js";
import { fetchAttachments, sessionOwner } from "./turn-attachments.js";
import { TurnTranscript } from "./turn-transcript.js";
import { asTurnFailure, cutReason } from "./turn-errors.js";
import type { BudgetGate } from "../budget/budget-gate.js";
import type { ThreadLog } from "../export/thread-log.js";
import type { TurnMetrics } from "../ops/turn-metrics.js";
import { turnOfRequest } from "../export/turn-record.js";
import { humanSize, ThreadCommands } from "./thread-commands.js";
import type { TurnTally } from "../ops/turn-tally.js";
import type { DataSources } from "../datasources/data-sources.js";
import { queriesMarkdown } from "./source-calls-text.js";
import { timed } from "../core/turn-spans.js";
import { sourcesPromptFor, turnSourceCalls, withCalls } from "./turn-sources.js";
import type { ScheduleCommands } from "../schedules/schedule-commands.js";
import type { Schedules } from "../schedules/schedules.js";

export interface TurnHandlerDeps {
  sandboxes: Sandboxes;
  memory: ThreadMemory;
  ledger: UsageLedger;
  agent: AgentLoop;
  attachments: Partial<Record<Platform, AttachmentSource>>;
  facts: Omit<PromptFacts, "place" | "pythonVersion">;
  /** Where the model works, per platform, for its prompt ("a Slack thread"). */
  places: Partial<Record<Platform, string>>;
  /** The Python version the sandbox image reports, read at each turn (known once a sandbox has answered). */
  pythonVersion?: () => string | undefined;
  contextTokens: number;
  maxFileBytes: number;
  vision: boolean;
  /** How long a turn waits out an unreachable Docker engine before failing (OUTAGE_WAIT_SECONDS). */
  outageWaitMs?: number;
  /** Where each turn is recorded for /export (a notebook of the thread); none: nothing is recorded. */
  threadLog?: ThreadLog;
  /** Usage per user and channel, counted always, and its daily and monthly limits (BUDGET_*): checked before a turn runs anything; none: neither. */
  budgets?: BudgetGate;
  /** Counts executions by status and file bytes in and out (the worker's /metrics); none: not counted. */
  metrics?: Pick<TurnMetrics, "executed" | "filesIn" | "filesOut">;
  /** False when neither OPENAI_API_KEY nor OPENAI_BASE_URL is set: questions fail at once, code still runs. */
  modelConfigured?: boolean;
  /** DATA_SOURCES_FILE's sources (#19): the channel's are named in the prompt and answer the code's calls; none: no sources. */
  dataSources?: DataSources;
  /** The schedule commands (`schedule`, `schedules`, `unschedule`, `resume`: src/schedules/); none: they are answered as unavailable. */
  scheduleCommands?: Pick<ScheduleCommands, "run">;
  /** The schedules, for what `reset` says of the thread's (they keep running, in a fresh session). */
  schedules?: Pick<Schedules, "list">;
}

export interface TurnContext {
  signal: AbortSignal;
  delivery: Delivery;
  log: Logger;
  /** What the turn uses (tokens, steps, seconds, bytes), for its audit line; none: not tallied. */
  tally?: TurnTally;
  /**
   * False when a failure that may pass will be retried (attempts are left): the retry runs the turn
   * again, so what this attempt got through is not remembered on its own. Absent: the last attempt.
   */
  lastAttempt?: boolean;
}

/** A turn's context inside the handler: what it spends is charged as it goes. */
type TurnRun = TurnContext & { spending: TurnSpending };

const VISION_MAX_BYTES = 5 * 1024 * 1024;
/** A "not sent" note: a clipped file name and the reason. */
const MAX_SKIPPED_NOTE = 200;
const FRESH_SESSION_NOTE =
  "This thread's earlier Python session had ended (it was idle too long, restarted, or ended to make room), so this ran in a new one: " +
  "variables and files from before are gone and must be loaded again.";
const NO_MODEL =
  "No model is set up for codebot yet: whoever runs it needs to set OPENAI_API_KEY (or OPENAI_BASE_URL for a compatible server such as Ollama). " +
  "A message that is only a ```python block still runs as written.";
/** Room left in the context window for the system prompt, the new message and the answer. */
const CONTEXT_RESERVE = 0.4;

/** One request of a thread, from attachments to the delivered answer. Platform-neutral. */
export class TurnHandler {
  private readonly commands: ThreadCommands;

  constructor(private readonly deps: TurnHandlerDeps) {
    this.commands = new ThreadCommands(deps);
  }

  async handle(request: ChatRequest, context: TurnContext): Promise<void> {
    const sessionId = threadKey(request.conversation);
    if (request.kind === "reset" || request.kind === "files" || request.kind === "export") return this.commands.run(request, sessionId, context.delivery);
    if (request.kind === "schedule" || request.kind === "schedules" || request.kind === "unschedule" || request.kind === "resume") {
      if (this.deps.scheduleCommands) return this.deps.scheduleCommands.run(request, context.delivery);
      return context.delivery.answer(request, commandReply("Schedules aren't available here."));
    }
    const spending = new TurnSpending({ budgets: this.deps.budgets, ledger: this.deps.ledger, log: context.log }, request, sessionId);
    // Admitted, the turn holds one turn's worth against its budgets until it ends, however it ends.
    const spentBefore = await timed("budget admit", () => spending.admit());
    const run: TurnRun = { ...context, spending };
    try {
      await timed("status", () => context.delivery.status(request, { phase: "thinking", text: "Thinking…" }));
      const uploaded = await fetchAttachments(this.deps, request, sessionId, context);
      const code = request.kind === "run" ? request.text : fencedPython(request.text);
      if (code !== undefined) return await this.runAsWritten(request, sessionId, code, run);
      if (this.deps.modelConfigured === false) throw new TurnFailure("MODEL_UNAVAILABLE", NO_MODEL);
      await this.converse(request, sessionId, uploaded, run, spentBefore);
    } finally {
      await timed("budget settle", () => spending.settle());
    }
  }

  private async runAsWritten(request: ChatRequest, sessionId: string, code: string, context: TurnRun): Promise<void> {
    await context.delivery.status(request, { phase: "running", step: 1, text: "Running your code…" });
    // One step, whose output is the answer: the status message says it runs, then becomes the answer.
    const result = await this.execute(sessionId, code, context, request, 1);
    const markdown = executionMarkdown(result, fullOutputName(1));
    const remembered = (answer: string): ChatCompletionMessageParam[] => [
      { role: "user", content: `${request.user.name} ran this code:\n\`\`\`python\n${clip(code, 4000)}\n\`\`\`` },
      { role: "assistant", content: clip(answer, 4000) },
    ];
    if (result.status === "cancelled") {
      // Stopped midway, the code may have changed the session: what it printed until then is remembered.
      await this.remember(sessionId, remembered(`${markdown}\n\n(Stopped here: the request was cancelled.)`), context);
      throw new TurnFailure("CANCELLED", "Stopped: the request was cancelled.");
    }
    await this.deliver(request, sessionId, markdown, [{ code, result }], context, fullOutputFile(result, 1));
    await this.deps.memory.append(sessionId, remembered(markdown));
  }

  private async converse(request: ChatRequest, sessionId: string, uploaded: Array<OutgoingFile & { path: string }>, context: TurnRun, spentBefore: number): Promise<void> {
    const attachedNote = uploaded.length
      ? `\n\n[${request.user.name} attached: ${uploaded.map((file) => `${file.path} (${humanSize(file.data.length)}, ${file.mime})`).join("; ")}]`
      : "";
    const images = this.deps.vision ? uploaded.filter((file) => file.mime.startsWith("image/") && file.data.length <= VISION_MAX_BYTES) : [];
    const history: ChatCompletionMessageParam[] = await timed("memory read", () => this.deps.memory.history(sessionId, Math.floor(this.deps.contextTokens * (1 - CONTEXT_RESERVE))));
    let step = 0;
    if (context.tally) context.tally.model = this.deps.agent.model;
    const relay = new EventRelay(context.delivery, request, context.log);
    const transcript = new TurnTranscript();
    const output = await this.deps.agent.run({
      systemPrompt: systemPrompt({ place: this.deps.places[request.conversation.platform] ?? "a chat thread", ...this.deps.facts, pythonVersion: this.deps.pythonVersion?.(), dataSources: await sourcesPromptFor(this.deps.dataSources, request) }),
      history,
      userText: `${request.user.name}: ${request.text}${attachedNote}`,
      userImages: images,
      signal: context.signal,
      status: (update) => context.delivery.status(request, update),
      emit: relay.emit,
      execute: (code, signal) => this.execute(sessionId, code, { ...context, signal }, request, ++step),
      ...(context.tally ? { usage: context.tally.usage } : {}),
      charge: (usage) => context.spending.modelCall(usage),
      tokensSpentBefore: spentBefore,
      transcript,
    }).catch(async (error: unknown) => {
      // Ended early: what was said and run up to here is remembered (code that ran changed the session).
      const failure = asTurnFailure(error);
      if (transcript.eventful && (!failure.retry || context.lastAttempt !== false)) await this.remember(sessionId, transcript.interrupted(cutReason(failure)), context);
      throw error;
    });
    // Independent writes to Redis: one round trip's wait, not two; and alongside the export record and
    // the checkpoint (the answer still waits for all three: a thread's memory is written before it is told).
    const remembered = timed("memory write", () => Promise.all([context.spending.flush(), this.deps.memory.append(sessionId, output.remembered)]));
    remembered.catch(() => undefined); // its failure is the turn's, through deliver
    context.log.info({ steps: output.executions.length, stop: output.stop, usage: output.usage }, "turn answered");
    await relay.settled();
    await this.deliver(request, sessionId, output.markdown, output.executions, context, undefined, { model: this.deps.agent.model, steps: output.executions.length }, remembered);
  }

  /**
   * Runs one step of the turn. The execution id is the turn's event id and the step, so a worker
   * that takes the turn over (its first worker died) gets the step's result from the sandbox
   * instead of running the code a second time.
   */
  private async execute(sessionId: string, code: string, context: TurnRun, request: ChatRequest, step: number): Promise<ExecutionResult> {
    const executionId = `${request.eventId}#${step}`;
    const result = await timed("execution", () => this.executeOnce(sessionId, code, context, request, executionId, step), (result) => result.durationMs);
    this.deps.metrics?.executed(result.status);
    context.tally?.executed(result.status, result.durationMs);
    // Each step's seconds count at once (once per execution id: a replay after a takeover isn't paid
    // twice), so a turn that fails later has still paid for what it ran.
    context.spending.executed(executionId, result.durationMs);
    // A thread that had turns before, now in a new session: its variables and files are gone, and
    // both the model (through the tool's notes) and the people (through the answer) are told.
    if (result.freshSession && (await this.deps.memory.hasHistory(sessionId))) {
      return { ...result, notes: [FRESH_SESSION_NOTE, ...result.notes] };
    }
    return result;
  }

  private async executeOnce(sessionId: string, code: string, context: TurnContext, request: ChatRequest, executionId: string, step: number): Promise<ExecutionResult> {
    // The code may call the channel's data sources while it runs; each call is kept for the step's line and the export.
    const { onCall, calls } = turnSourceCalls(this.deps.dataSources, request);
    const result = await rideOut(() => this.deps.sandboxes.execute(sessionId, code, { signal: context.signal, requestId: request.eventId, executionId, owner: sessionOwner(request), onCall }), {
      waitMs: this.deps.outageWaitMs ?? 0,
      signal: context.signal,
      // The engine can't be reached: nothing was started (a lost running session is a result, not this error).
      transient: (error) => error instanceof SandboxError && error.code === "DOCKER_UNAVAILABLE",
      onWait: () => context.delivery.status(request, { phase: "running", step, text: "Waiting for the sandbox engine (Docker isn't answering); retrying…" }),
    });
    return withCalls(result, calls);
  }

  private async deliver(
    request: ChatRequest,
    sessionId: string,
    answer: string,
    executions: Array<{ code: string; result: ExecutionResult }>,
    context: TurnContext,
    fullOutput?: OutgoingFile,
    facts?: AnswerFacts,
    before: Promise<unknown> = Promise.resolve(),
  ): Promise<void> {
    // The export record and the checkpoint at once (and what the caller writes before the answer):
    // the files the code changed are saved before the answer goes out; what could not be is said.
    const [recordNotes, saveNotes] = await Promise.all([
      timed("export record", () => this.recordTurn(request, sessionId, answer, executions, context)),
      timed("checkpoint", async () => (await this.deps.sandboxes.settle?.(sessionId)) ?? []),
      before,
    ]);
    const queries = queriesMarkdown(executions);
    const markdown = [answer, ...(queries ? [queries] : []), ...[...saveNotes, ...recordNotes].map(noteMarkdown)].join("\n\n");
    const outputs = await timed("outputs", () => collectOutputs(this.deps.sandboxes, sessionId, executions.map((execution) => execution.result), context.log));
    if (outputs.images.length || outputs.files.length) await context.delivery.status(request, { phase: "uploading", text: "Uploading results…" });
    // Skipped files are named by the sandbox: one clipped line each (the adapters summarise the list).
    const skippedFiles = outputs.skippedFiles.map((entry) => displayNote(entry, MAX_SKIPPED_NOTE));
    const steps = executions.map(({ code, result }, i): AnswerStep => ({ step: i + 1, code, status: result.status, outcome: stepOutcome(result), durationMs: result.durationMs }));
    const files = fullOutput ? [fullOutput, ...outputs.files] : outputs.files;
    const bytesOut = [...files, ...outputs.images].reduce((bytes, file) => bytes + file.data.length, 0);
    this.deps.metrics?.filesOut(bytesOut);
    if (context.tally) context.tally.bytesOut += bytesOut;
    await timed("delivery", () => context.delivery.answer(request, { markdown, code: executions.map((execution) => execution.code), steps, ...outputs, files, skippedFiles, ...(facts ? { facts } : {}) }));
  }

  /** Appends to the thread's memory for a turn that ended early; a write that fails is logged (the turn's own failure is what people read). */
  private async remember(sessionId: string, messages: ChatCompletionMessageParam[], context: TurnContext): Promise<void> {
    try {
      await this.deps.memory.append(sessionId, messages);
    } catch (error) {
      context.log.warn({ err: error }, "could not remember the turn that ended early");
    }
  }

  /** Records the turn for /export; returns what the answer should say (a quota reached). A record that fails is logged, never the turn's failure. */
  private async recordTurn(request: ChatRequest, sessionId: string, answer: string, executions: Array<{ code: string; result: ExecutionResult }>, context: TurnContext): Promise<string[]> {
    if (!this.deps.threadLog) return [];
    try {
      return await this.deps.threadLog.record(sessionId, turnOfRequest(request, answer, executions), sessionOwner(request));
    } catch (error) {
      context.log.warn({ err: error }, "could not record the turn for export");
      return [];
    }
  }
}
