import type { Redis } from "ioredis";
import type { LlmConfig, SandboxConfig, TurnConfig } from "../config.js";

/** The model's section and a turn's, and the sandbox limits the model is told of. */
export type TurnHandlerConfig = LlmConfig & TurnConfig & Pick<SandboxConfig, "SANDBOX_TIMEOUT_SECONDS" | "SANDBOX_MEMORY_MB" | "SANDBOX_DISK_MB" | "SANDBOX_MAX_FILE_MB">;
import type { AttachmentSource } from "../core/attachment-source.js";
import type { Platform } from "../core/platform-names.js";
import type { BudgetGate } from "../budget/budget-gate.js";
import type { DataSources } from "../datasources/data-sources.js";
import type { ThreadLog } from "../export/thread-log.js";
import type { WorkerMetrics } from "../ops/metrics.js";
import type { Keys } from "../redis/redis-keys.js";
import type { Sandboxes } from "../sandbox/sandboxes.js";
import type { ScheduleCommands } from "../schedules/schedule-commands.js";
import type { Schedules } from "../schedules/schedules.js";
import { AgentLoop } from "./agent-loop.js";
import { createLlmClient } from "./llm-client.js";
import { ThreadMemory } from "./thread-memory.js";
import { TurnHandler } from "./turn-handler.js";
import { UsageLedger } from "./usage-ledger.js";

/** What a worker's turn handler is made over: the layers below the agent, and the platforms' ports. */
export interface TurnHandlerParts {
  redis: Redis;
  keys: Keys;
  sandboxes: Sandboxes;
  attachments: Partial<Record<Platform, AttachmentSource>>;
  places: Partial<Record<Platform, string>>;
  threadLog?: ThreadLog;
  budgets?: BudgetGate;
  /** The Python version the sandboxes report, read at each turn. */
  pythonVersion?: () => string | undefined;
  /** The data sources the sandbox's code may call (DATA_SOURCES_FILE); none: no sources. */
  dataSources?: DataSources;
  /** None with METRICS_PORT=0: nothing is counted. */
  metrics?: Pick<WorkerMetrics, "model" | "turns">;
  /** Schedules (#20): the thread's schedule commands, and the store `reset` reads; none: the commands answer that they are unavailable. */
  schedules?: { commands: Pick<ScheduleCommands, "run">; store: Pick<Schedules, "list"> };
}

/** The agent as configured: the model (OPENAI_*), the turn's limits (TURN_*), memory and usage in Redis. */
export function createTurnHandler(config: TurnHandlerConfig, parts: TurnHandlerParts): TurnHandler {
  const { redis, keys, metrics } = parts;
  return new TurnHandler({
    sandboxes: parts.sandboxes,
    memory: new ThreadMemory(redis, keys),
    threadLog: parts.threadLog,
    ledger: new UsageLedger(redis, keys),
    budgets: parts.budgets,
    agent: new AgentLoop(
      createLlmClient(config),
      {
        model: config.OPENAI_MODEL,
        stream: config.OPENAI_STREAM,
        maxRetries: config.OPENAI_MAX_RETRIES,
        maxSteps: config.TURN_MAX_STEPS,
        maxTokens: config.TURN_MAX_TOKENS,
        toolOutputMaxChars: config.TOOL_OUTPUT_MAX_CHARS,
        outageWaitMs: config.OUTAGE_WAIT_SECONDS * 1000,
      },
      metrics?.model,
    ),
    attachments: parts.attachments,
    places: parts.places,
    facts: { timeoutSeconds: config.SANDBOX_TIMEOUT_SECONDS, memoryMb: config.SANDBOX_MEMORY_MB, diskMb: config.SANDBOX_DISK_MB },
    pythonVersion: parts.pythonVersion,
    contextTokens: config.MODEL_CONTEXT_TOKENS,
    maxFileBytes: config.SANDBOX_MAX_FILE_MB * 1024 * 1024,
    vision: config.OPENAI_VISION,
    outageWaitMs: config.OUTAGE_WAIT_SECONDS * 1000,
    metrics: metrics?.turns,
    modelConfigured: Boolean(config.OPENAI_API_KEY || config.OPENAI_BASE_URL),
    dataSources: parts.dataSources,
    scheduleCommands: parts.schedules?.commands,
    schedules: parts.schedules?.store,
  });
}
