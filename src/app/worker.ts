import type { Config } from "../config.js";
import type { Logger } from "../log.js";
import { createTurnHandler } from "../agent/create-turn-handler.js";
import { createBudgetGate } from "../budget/budget-gate.js";
import { createDataSources } from "../datasources/create-data-sources.js";
import { loadDataSources } from "../datasources/source-config.js";
import { createThreadLog } from "../export/create-thread-log.js";
import { rememberModelName } from "../feedback/feedback-store.js";
import { workerMetrics } from "../ops/metrics.js";
import { SessionReporter, type SessionSources } from "../ops/session-reporter.js";
import { startWorkerOps } from "../ops/worker-ops.js";
import { platformAccessRules, platformPorts } from "../platforms/registry.js";
import { CancelListener } from "../queue/cancellation.js";
import { createTurnWorker } from "../queue/create-turn-worker.js";
import { TurnQueue } from "../queue/turn-queue.js";
import { IDLE_CLOSE_MS, within } from "../queue/worker-limits.js";
import { createRedis } from "../redis/redis-connection.js";
import { keys } from "../redis/redis-keys.js";
import type { SandboxEngine } from "../sandbox/sandbox-engine.js";
import { createWorkerSchedules } from "../schedules/create-schedules.js";
import { createSandboxes, type SandboxRuntime } from "./sandboxes.js";
import { exitOnceStopped, waitForShutdownSignal } from "./shutdown.js";

export interface WorkerRuntime {
  sandboxes: SandboxEngine;
  /**
   * Finishes running turns (up to WORKER_SHUTDOWN_SECONDS) and releases every connection; returns
   * how many unfinished turns were handed back to the queue for another worker.
   */
  close(): Promise<number>;
}

/** `codebot worker`'s composition: config, Redis, sandboxes, the model and the platforms' ports, wired into a started queue worker. */
export async function startWorkerRuntime(config: Config, log: Logger): Promise<WorkerRuntime> {
  // Data sources (#19): DATA_SOURCES_FILE and the variables it names are checked before anything starts.
  const sourceConfigs = loadDataSources(config.DATA_SOURCES_FILE);
  if (!config.OPENAI_API_KEY && !config.OPENAI_BASE_URL) {
    log.warn("neither OPENAI_API_KEY nor OPENAI_BASE_URL is set: questions for the model will fail (code blocks still run)");
  }
  const redis = createRedis(config.REDIS_URL, log);
  const k = keys(config.QUEUE_PREFIX);
  const { manager: sandboxes, managers, fleet, sandboxes: turnSandboxes, durable, events } = createSandboxes(config, log, redis);
  // One engine, checked first: without the image or the runtime nothing could run, so the worker stops
  // and says what to do; an engine that doesn't answer is waited for (a fleet's hosts are checked by the fleet).
  const engineProblem = fleet ? undefined : await sandboxes.setupProblem();
  if (engineProblem && engineProblem.code !== "DOCKER_UNAVAILABLE") {
    redis.disconnect();
    throw engineProblem;
  }
  const ports = platformPorts(config, { redis, keys: k, log });
  // METRICS_PORT=0: no endpoint, and nothing is counted for one.
  const metrics = config.METRICS_PORT === 0 ? undefined : workerMetrics();
  // Data sources (#19): pools per source, calls audited (log, metrics, the admin page's counts); closed with the worker.
  const dataSources = createDataSources(sourceConfigs, { log, logContent: config.LOG_CONTENT, metrics: metrics?.sources, redis: { redis, keys: k } });
  if (dataSources) log.info({ sources: dataSources.names }, "data sources: the sandbox's code may call these, in the channels each allows");
  // Discord's feedback buttons carry the model's hash; readers of the ratings get its name from here.
  void rememberModelName(redis, k, config.OPENAI_MODEL).catch((error: unknown) => log.warn({ err: error }, "could not record the model's name for feedback"));
  // Schedules (#20): made and listed by the thread's commands, fired by BullMQ's job schedulers, each run a turn of its creator's.
  const scheduling = createWorkerSchedules(config, { redis, log, rules: platformAccessRules(config), metrics: metrics?.schedules });
  const handler = createTurnHandler(config, {
    redis,
    keys: k,
    sandboxes: turnSandboxes,
    attachments: ports.attachments,
    places: ports.places,
    // The export log: text in Redis, images in the thread's workspace (or left out without a store).
    threadLog: createThreadLog(config, { redis, keys: k, store: durable?.workspaces.store, log }),
    budgets: createBudgetGate(redis, k, config, log),
    // As the image's sandboxes report it (the warm-up pings the pool), never a constant.
    pythonVersion: () => managers.map((manager) => manager.pythonVersion()).find((version) => version !== undefined),
    metrics,
    dataSources,
    schedules: { commands: scheduling.commands, store: scheduling.schedules },
  });
  const cancels = await CancelListener.start(redis, k);
  const worker = createTurnWorker(config, { redis, keys: k, handler, deliveries: ports.deliveries, cancels, log, metrics: metrics?.turns, scheduled: scheduling.turns });
  // Each fired run of a schedule becomes a turn through the same claim and thread order as a platform's event.
  const turnQueue = new TurnQueue(redis, config.QUEUE_PREFIX, config.QUEUE_ATTEMPTS);
  const runner = scheduling.runner((request) => turnQueue.enqueue(request));
  // The admin page's sessions, published below; the sleeping-sessions gauge reads its last listing.
  let sessionReporter: SessionReporter | undefined;
  // /metrics, /healthz, /readyz on METRICS_PORT: up before the warm-up, so a slow start can be watched.
  const ops = metrics && (await startWorkerOps(config, log, metrics, {
    redis,
    managers,
    fleet,
    events,
    jobCounts: () => worker.jobCounts(),
    sleeping: durable && (async () => sessionReporter?.sleepingSessions() ?? Promise.reject(new Error("sessions not listed yet"))),
  }));
  // The admin page's sessions (the bot has no Docker socket): a snapshot in Redis every 10 s, and the kills it asks for.
  sessionReporter = await SessionReporter.start({ redis, keys: k, log, sources: sessionSources({ manager: sandboxes, fleet, durable, sandboxes: turnSandboxes }) });
  if (fleet) {
    await fleet.check();
    fleet.keepChecking(config.SANDBOX_HOST_CHECK_SECONDS * 1000);
    log.info({ hosts: fleet.members.map((member) => member.spec.name) }, "sandbox fleet: threads are placed across these hosts");
  }
  for (const manager of managers) {
    if (engineProblem) {
      log.error({ code: engineProblem.code }, `${engineProblem.message} The worker keeps running: turns wait for the engine (up to OUTAGE_WAIT_SECONDS), and the pool fills once it answers.`);
    } else {
      await manager.tidy();
      await manager.warmUp().catch((error: unknown) => log.error({ err: error }, "could not warm the sandbox pool"));
    }
    manager.keepWarm(Math.min(60, config.SANDBOX_IDLE_TIMEOUT_SECONDS / 2) * 1000);
  }
  // Idle sessions go to sleep soon after their timeout (checked at a tenth of it, at most every 30 s).
  durable?.keepSweeping(Math.min(30, Math.max(1, config.SANDBOX_IDLE_TIMEOUT_SECONDS / 10)) * 1000);
  if (durable) log.info({ store: durable.workspaces.store.description, idleSeconds: config.SANDBOX_IDLE_TIMEOUT_SECONDS }, "durable workspaces: idle sessions sleep and resume with their files and variables");
  else log.warn("WORKSPACE_STORE=none: a thread's files and variables end with its session");
  worker.start();
  runner.start();
  log.info({ concurrency: config.WORKER_CONCURRENCY, platforms: Object.keys(ports.deliveries), model: config.OPENAI_MODEL }, "worker started");
  return {
    sandboxes,
    async close() {
      // No more runs fired here (one being turned into a turn finishes; another worker takes the next).
      await within(Promise.all([runner.close(), turnQueue.close(), scheduling.schedules.close()]), IDLE_CLOSE_MS);
      const handedBack = await worker.close(config.WORKER_SHUTDOWN_SECONDS * 1000);
      await cancels.close();
      // With no turn left running here, the sessions this worker opened go to sleep with their variables.
      if (!handedBack) await durable?.close();
      fleet?.stopChecking();
      if (!handedBack) await Promise.all(managers.map((manager) => manager.close()));
      await ops?.close();
      await sessionReporter?.close();
      await dataSources?.close();
      redis.disconnect();
      return handedBack;
    },
  };
}

/** The admin page's view of the worker's sandboxes: what `codebot sessions` reads, and what a kill calls. */
function sessionSources(runtime: Pick<SandboxRuntime, "manager" | "fleet" | "durable" | "sandboxes">): SessionSources {
  return {
    running: () => (runtime.fleet ? runtime.fleet.listSessions() : runtime.manager.listSessions()),
    workspaces: async () => (await runtime.durable?.workspaces.list()) ?? [],
    kill: (sessionId) => runtime.sandboxes.kill(sessionId),
  };
}

/** Seconds past WORKER_SHUTDOWN_SECONDS that closing connections and sessions may take. */
const CLOSE_MARGIN_SECONDS = 5;

/** `codebot worker`: takes turns from Redis, runs the model's code in sandboxes, delivers replies. */
export async function runWorker(config: Config, log: Logger): Promise<number> {
  const runtime = await startWorkerRuntime(config, log);
  const signal = await waitForShutdownSignal();
  log.info({ signal, graceSeconds: config.WORKER_SHUTDOWN_SECONDS }, "worker stopping: finishing running turns");
  // Closing waits on Redis (hand-backs, sleeping sessions); with Redis away it is cut at the grace.
  const limitMs = (config.WORKER_SHUTDOWN_SECONDS + CLOSE_MARGIN_SECONDS) * 1000;
  let timer: NodeJS.Timeout | undefined;
  const handedBack = await Promise.race([runtime.close(), new Promise<"cut">((resolve) => (timer = setTimeout(() => resolve("cut"), limitMs)))]);
  clearTimeout(timer);
  if (handedBack === "cut") {
    log.warn({ limitSeconds: limitMs / 1000 }, "worker stopped before closing everything (is Redis reachable?): turns still running here are taken over by another worker");
    process.exit(0);
  }
  log.info({ handedBack }, "worker stopped");
  // Turns handed back still have work pending in this process (a cell's answer, a model call):
  // it is abandoned, another worker continues those turns.
  if (handedBack) process.exit(0);
  exitOnceStopped(0);
  return 0;
}
