import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { SessionEvents } from "../sandbox/session-events.js";
import type { IntakeMetrics } from "./intake-metrics.js";
import type { ModelMetrics, TurnMetrics } from "./turn-metrics.js";

/*
 * Every codebot_* metric is defined here, and only here. Labels are bounded on purpose: platform,
 * outcome, status, failure code, model (one per worker's config), host (SANDBOX_HOSTS names), data
 * source (DATA_SOURCES_FILE's names; any other name a sandbox makes up counts as "(unknown)"). Never
 * user text, user ids, channel ids or thread ids: a label value per user would grow without end.
 */

const SECONDS_TURN = [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600];
const SECONDS_QUICK = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60];
const SECONDS_WAIT = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300];
const QUEUE_STATES = ["waiting", "active", "delayed"] as const;
/** What a scrape waits for one source (Redis, Docker) before leaving its gauge out. */
const SOURCE_TIMEOUT_MS = 1500;
/** Pool members are counted with a Docker listing: at most this often, whatever the scrape rate. */
const POOL_CACHE_MS = 10_000;
/** The host label of a worker without SANDBOX_HOSTS (one engine). */
export const SINGLE_HOST = "default";

/** A registry of its own per process (never prom-client's global one), with Node's default metrics. */
function processRegistry(role: "bot" | "worker"): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ role });
  collectDefaultMetrics({ register: registry });
  return registry;
}

export interface BotMetrics extends IntakeMetrics {
  registry: Registry;
}

/** The bot's metrics: requests by platform and what the intake did with them. */
export function botMetrics(): BotMetrics {
  const registry = processRegistry("bot");
  const requests = new Counter({ name: "codebot_requests_total", help: "Requests the bot received, by platform and outcome (queued, duplicate, refused_access, refused_rate, error).", labelNames: ["platform", "outcome"], registers: [registry] });
  const rateLimited = new Counter({ name: "codebot_rate_limited_total", help: "Requests refused by the per-user rate limit, by platform.", labelNames: ["platform"], registers: [registry] });
  return {
    registry,
    request(platform, outcome) {
      requests.inc({ platform, outcome });
      if (outcome === "refused_rate") rateLimited.inc({ platform });
    },
  };
}

/** One engine's sessions as a scrape reads them (see SandboxManager). */
export interface SessionHost {
  name: string;
  /** Sessions holding a slot on the engine (Redis: every worker's). */
  sessionCount(): Promise<number>;
  /** Sessions this process has open. */
  openSessionIds(): string[];
  /** Warm sandboxes waiting (a Docker listing: cached). */
  pooled(): Promise<number>;
}

/** What the worker's gauges read at each scrape. */
export interface WorkerGaugeSources {
  /** BullMQ's job counts (waiting, active, delayed). */
  jobCounts(): Promise<Record<string, number>>;
  hosts: SessionHost[];
  /** Sessions asleep in the workspace store (saved, no container); none without durable workspaces. */
  sleeping?(): Promise<number>;
}

/** Data-source calls (src/datasources/call-audit.ts): source is a configured name or "(unknown)", outcome a stable code. */
export interface SourceMetrics {
  sourceCall(source: string, kind: string, outcome: string, seconds: number, rows: number, bytes: number): void;
}

/** Runs of schedules (src/schedules/scheduled-turns.ts) by outcome: answered, failed, refused, cancelled, skipped. */
export interface ScheduledRunMetrics {
  scheduledRun(outcome: string): void;
}

export interface WorkerMetrics {
  registry: Registry;
  turns: TurnMetrics;
  model: ModelMetrics;
  sources: SourceMetrics;
  schedules: ScheduledRunMetrics;
  /**
   * Subscribed to the sandboxes' session events: claims on a host's warm pool (a hit, or a miss: a
   * cold start), and sessions' lives by kind. Session ids never become labels.
   */
  sessions: SessionEvents;
  /** Starts reading the gauges from their sources at each scrape. */
  collectFrom(sources: WorkerGaugeSources): void;
}

/** The worker's metrics: turns, executions, the model, files, the queue and the sandboxes. */
export function workerMetrics(): WorkerMetrics {
  const registry = processRegistry("worker");
  const registers = [registry];
  const turnsTotal = new Counter({ name: "codebot_turns_total", help: "Turn attempts by outcome (answered, failed, cancelled, retried) and failure code.", labelNames: ["outcome", "code"], registers });
  const turnSeconds = new Histogram({ name: "codebot_turn_duration_seconds", help: "How long a turn's attempt ran, from its start on a worker to its end.", labelNames: ["outcome"], buckets: SECONDS_TURN, registers });
  const firstReply = new Histogram({ name: "codebot_time_to_first_reply_seconds", help: "From the request's arrival to the first reply sent (a status or an answer event).", buckets: SECONDS_QUICK, registers });
  const queueWait = new Histogram({ name: "codebot_queue_wait_seconds", help: "From the request's arrival to its turn's start on a worker.", buckets: SECONDS_WAIT, registers });
  const executions = new Counter({ name: "codebot_executions_total", help: "Code steps run in sandboxes, by status (ok, error, timeout, oom, killed, cancelled).", labelNames: ["status"], registers });
  const fileBytes = new Counter({ name: "codebot_file_bytes_total", help: "Bytes of files: in (attachments put in sandboxes) and out (files and images sent with answers).", labelNames: ["direction"], registers });
  const modelCalls = new Counter({ name: "codebot_model_calls_total", help: "Model calls that answered, by model.", labelNames: ["model"], registers });
  const modelTokens = new Counter({ name: "codebot_model_tokens_total", help: "Tokens the model used, by model and kind (prompt, completion).", labelNames: ["model", "kind"], registers });
  const modelErrors = new Counter({ name: "codebot_model_errors_total", help: "Model calls that failed after the SDK's retries, by model and failure code.", labelNames: ["model", "code"], registers });
  const poolClaims = new Counter({ name: "codebot_pool_claims_total", help: "New sessions by host and whether a warm sandbox was ready (hit) or one was started cold (miss).", labelNames: ["host", "result"], registers });
  const lifecycle = new Counter({
    name: "codebot_session_lifecycle_total",
    help: "Sessions' lives by kind: fresh (a new sandbox), resumed (a workspace put back), hibernated (put to sleep), evicted (made room for another, asleep or not), killed (/reset, sessions kill), lost (broke during an execution).",
    labelNames: ["kind"],
    registers,
  });
  const sourceCalls = new Counter({ name: "codebot_datasource_calls_total", help: "Data-source calls by source, kind (sql, fetch) and outcome (ok, truncated, read-only, timeout, unreachable...).", labelNames: ["source", "kind", "outcome"], registers });
  const sourceSeconds = new Histogram({ name: "codebot_datasource_call_seconds", help: "How long a data-source call took, by source and kind.", labelNames: ["source", "kind"], buckets: SECONDS_QUICK, registers });
  const sourceRows = new Counter({ name: "codebot_datasource_rows_total", help: "Rows data-source calls returned to sandboxes, by source.", labelNames: ["source"], registers });
  const sourceBytes = new Counter({ name: "codebot_datasource_bytes_total", help: "Bytes data-source calls streamed to sandboxes (CSV, HTTP bodies), by source.", labelNames: ["source"], registers });
  const scheduledRuns = new Counter({
    name: "codebot_scheduled_runs_total",
    help: "Runs of schedules by outcome: answered, failed, refused (the creator no longer allowed), cancelled (Stop pressed), skipped (the schedule removed or paused after it fired).",
    labelNames: ["outcome"],
    registers,
  });
  let sources: WorkerGaugeSources | undefined;
  let pooled: Array<() => Promise<number>> = [];
  let sleeping: (() => Promise<number>) | undefined;
  new Gauge({
    name: "codebot_queue_jobs",
    help: "Turns in the queue by state (waiting, active, delayed), read at each scrape.",
    labelNames: ["state"],
    registers,
    async collect() {
      const counts = sources && (await withinTimeout(sources.jobCounts()));
      this.reset();
      if (counts) for (const state of QUEUE_STATES) this.set({ state }, counts[state] ?? 0);
    },
  });
  new Gauge({
    name: "codebot_sandbox_sessions",
    help: "Sandbox sessions by host and state: live (holding a slot on the engine, all workers), open (attached by this worker), pooled (warm, waiting).",
    labelNames: ["host", "state"],
    registers,
    async collect() {
      const samples = await Promise.all(
        (sources?.hosts ?? []).map(async (host, i) => ({ host: host.name, live: await withinTimeout(host.sessionCount()), open: host.openSessionIds().length, pooled: await withinTimeout(pooled[i]!()) })),
      );
      this.reset();
      for (const sample of samples) {
        this.set({ host: sample.host, state: "open" }, sample.open);
        if (sample.live !== undefined) this.set({ host: sample.host, state: "live" }, sample.live);
        if (sample.pooled !== undefined) this.set({ host: sample.host, state: "pooled" }, sample.pooled);
      }
    },
  });

  new Gauge({
    name: "codebot_sessions_sleeping",
    help: "Sessions asleep in the workspace store: files and variables saved, no container, no memory (as the worker last listed them, every 10 s).",
    registers,
    async collect() {
      const count = sleeping && (await withinTimeout(sleeping()));
      this.reset();
      if (count !== undefined) this.set(count);
    },
  });

  return {
    registry,
    turns: {
      turnStarted: (seconds) => queueWait.observe(Math.max(0, seconds)),
      firstReply: (seconds) => firstReply.observe(Math.max(0, seconds)),
      turnEnded(outcome, seconds, code) {
        turnsTotal.inc(code ? { outcome, code } : { outcome });
        turnSeconds.observe({ outcome }, seconds);
      },
      executed: (status) => executions.inc({ status }),
      filesIn: (bytes) => fileBytes.inc({ direction: "in" }, bytes),
      filesOut: (bytes) => fileBytes.inc({ direction: "out" }, bytes),
    },
    model: {
      modelCall(model, usage) {
        modelCalls.inc({ model });
        modelTokens.inc({ model, kind: "prompt" }, usage.prompt);
        modelTokens.inc({ model, kind: "completion" }, usage.completion);
      },
      modelError: (model, code) => modelErrors.inc({ model, code }),
    },
    sessions: {
      onPoolClaim: ({ host, hit }) => poolClaims.inc({ host: host ?? SINGLE_HOST, result: hit ? "hit" : "miss" }),
      onFreshSession: () => lifecycle.inc({ kind: "fresh" }),
      onResumed: () => lifecycle.inc({ kind: "resumed" }),
      onHibernated: () => lifecycle.inc({ kind: "hibernated" }),
      onEvicted: () => lifecycle.inc({ kind: "evicted" }),
      onSessionEnded: ({ reason }) => void ((reason === "killed" || reason === "lost") && lifecycle.inc({ kind: reason })),
    },
    sources: {
      sourceCall(source, kind, outcome, seconds, rows, bytes) {
        sourceCalls.inc({ source, kind, outcome });
        sourceSeconds.observe({ source, kind }, seconds);
        if (rows) sourceRows.inc({ source }, rows);
        if (bytes) sourceBytes.inc({ source }, bytes);
      },
    },
    schedules: { scheduledRun: (outcome) => scheduledRuns.inc({ outcome }) },
    collectFrom(given) {
      sources = given;
      pooled = given.hosts.map((host) => cachedFor(POOL_CACHE_MS, () => host.pooled()));
      sleeping = given.sleeping;
    },
  };
}

/** The value, or undefined when the source fails or takes longer than a scrape should wait. */
async function withinTimeout<T>(promise: Promise<T>, ms = SOURCE_TIMEOUT_MS): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  try {
    return await Promise.race([promise.catch(() => undefined), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** fn's last answer for ms (a failure is not kept); concurrent calls share one read. */
function cachedFor<T>(ms: number, fn: () => Promise<T>): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | undefined;
  return () => {
    if (last && Date.now() - last.at < ms) return last.value;
    const value = fn();
    const entry = { at: Date.now(), value };
    last = entry;
    value.catch(() => last === entry && (last = undefined));
    return value;
  };
}
