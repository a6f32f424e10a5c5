import { DelayedError, Queue, QueueEvents, UnrecoverableError, Worker, type Job } from "bullmq";
import type { Redis } from "ioredis";
import type { Platform } from "../core/chat-request.js";
import type { Delivery } from "../core/reply.js";
import { asTurnFailure } from "../agent/turn-errors.js";
import { failureForPeople } from "../core/turn-failure.js";
import type { TurnHandler } from "../agent/turn-handler.js";
import type { ScheduledTurns } from "../schedules/scheduled-turns.js";
import type { Logger } from "../log.js";
import type { FailureLog } from "../ops/failure-log.js";
import type { TurnMetrics } from "../ops/turn-metrics.js";
import { recordFailure, TurnReport, type TurnReporting } from "../ops/turn-report.js";
import type { CancelListener } from "./cancellation.js";
import { keys, TURN_QUEUE, type Keys } from "../redis/redis-keys.js";
import { EventClaims } from "./event-claims.js";
import { StatusRelay } from "./status-relay.js";
import { ThreadOrder } from "./thread-order.js";
import { turnJobSchema, type TurnJob } from "./turn-job.js";
import { IDLE_CLOSE_MS, isConnectionError, timeoutSignal, within } from "./worker-limits.js";
import { inTurn, markTurn, timed } from "../core/turn-spans.js";

export interface TurnWorkerOptions {
  redis: Redis;
  prefix: string;
  concurrency: number;
  lockSeconds: number;
  turnTimeoutSeconds: number;
  handler: Pick<TurnHandler, "handle">;
  deliveries: Partial<Record<Platform, Delivery>>;
  cancels: CancelListener;
  log: Logger;
  /** Counts turns by outcome and times them (the worker's /metrics); none: not counted. */
  metrics?: TurnMetrics;
  /** Keeps the newest failed turns for the admin page; none: not kept. */
  failures?: FailureLog;
  /** LOG_CONTENT: each turn's audit line carries the message's text and the user's name. */
  logContent?: boolean;
  /** Runs of schedules (requests with `schedule` set): judged, headed and recorded (src/schedules/); none: run as any turn. */
  scheduled?: ScheduledTurns;
}

/** How long a turn waits before checking again whether its thread's earlier turn is done. */
const ORDER_RECHECK_MS = 1000;
/** How often workers look for turns whose worker died: a fifth of the lock, so takeover is prompt. */
const stalledCheckMs = (lockSeconds: number) => Math.max(1000, Math.round((lockSeconds * 1000) / 5));
/**
 * A thread's current turn with no job (its enqueue was cut between taking the sequence number and
 * adding the job, or the job failed without a worker to report it) is skipped after this long, so
 * one interrupted enqueue never stops a thread. A healthy enqueue takes milliseconds.
 */
const GAP_GRACE_MS = 2000;
const STALLED = /stalled/i;

/**
 * Takes turns off the queue: in thread order, with a cancel signal and a time limit, retrying what
 * may pass (a sandbox hiccup) and telling the user in plain words about what won't.
 */
export class TurnWorker {
  readonly worker: Worker<TurnJob>;
  private readonly queue: Queue<TurnJob>;
  private readonly events: QueueEvents;
  private readonly eventsConnection: Redis;
  private readonly order: ThreadOrder;
  private readonly claims: EventClaims;
  private readonly keys: Keys;
  /** Turns this worker is running, with their lock tokens, to hand back if shutdown runs out of grace. */
  private readonly running = new Map<string, { job: Job<TurnJob>; token: string | undefined }>();

  private readonly reporting: TurnReporting;

  constructor(private readonly options: TurnWorkerOptions) {
    this.reporting = { log: options.log, metrics: options.metrics, failures: options.failures, logContent: options.logContent };
    this.keys = keys(options.prefix);
    this.order = new ThreadOrder(options.redis, this.keys);
    this.claims = new EventClaims(options.redis, this.keys);
    this.queue = new Queue<TurnJob>(TURN_QUEUE, { connection: options.redis, prefix: options.prefix });
    this.worker = new Worker<TurnJob>(TURN_QUEUE, (job, token) => inTurn(String(job.data.request?.eventId), () => this.process(job, token)), {
      connection: options.redis,
      prefix: options.prefix,
      concurrency: options.concurrency,
      lockDuration: options.lockSeconds * 1000,
      stalledInterval: stalledCheckMs(options.lockSeconds),
      // A turn may lose its worker twice and still be continued: code that ran is not run again.
      maxStalledCount: 2,
      autorun: false,
    });
    this.eventsConnection = options.redis.duplicate();
    this.eventsConnection.on("error", () => undefined); // the main connection logs Redis problems
    this.events = new QueueEvents(TURN_QUEUE, { connection: this.eventsConnection, prefix: options.prefix });
    this.events.on("failed", ({ jobId, failedReason }) => void this.onFailed(jobId, failedReason));
    // During a Redis outage BullMQ reports the same error on every retry: logged once per change.
    let lastError = "";
    this.worker.on("error", (error) => {
      if (error.message === lastError) return;
      lastError = error.message;
      // Redis away is one plain line per kind of failure (the connection logs its own); anything else keeps its stack.
      if (isConnectionError(error)) options.log.warn({ err: error.message }, "queue worker can't reach Redis; retrying");
      else options.log.error({ err: error }, "queue worker error");
    });
    options.redis.on("ready", () => (lastError = ""));
    this.events.on("error", (error) => options.log.debug({ err: error.message }, "queue events connection problem"));
  }

  start(): void {
    void this.worker.run();
  }

  /** Turns in the queue by state, for the queue-depth gauge. */
  jobCounts(): Promise<Record<string, number>> {
    return this.queue.getJobCounts("waiting", "active", "delayed");
  }

  /**
   * Stops taking turns and lets running ones finish, up to graceMs. Turns still running then are
   * handed back to the queue for another worker, which continues them (code that already ran is not
   * run again: see TurnHandler's execution ids). Returns how many were handed back; the caller
   * should then exit, since their work in this process is abandoned.
   */
  async close(graceMs: number): Promise<number> {
    const closing = this.worker.close();
    // With no turn running there is nothing to wait for: BullMQ's close can wait forever on a Redis
    // that is away, and the process must still stop within its grace.
    const graceOver = !(await within(closing, this.running.size ? graceMs : Math.min(graceMs, IDLE_CLOSE_MS)));
    let handedBack = 0;
    if (graceOver) {
      for (const [jobId, { job, token }] of this.running) {
        try {
          await job.moveToWait(token);
          handedBack++;
          this.options.log.warn({ jobId, requestId: job.data.request.eventId }, "shutdown grace over: turn handed back to the queue");
        } catch (error) {
          this.options.log.error({ err: error, jobId }, "could not hand a turn back; it will be taken over when its lock expires");
        }
      }
    }
    await within(this.events.close(), IDLE_CLOSE_MS);
    this.eventsConnection.disconnect();
    await within(this.queue.close(), IDLE_CLOSE_MS);
    return handedBack;
  }

  private async process(job: Job<TurnJob>, token: string | undefined): Promise<void> {
    markTurn("claimed");
    const { request, threadKey, seq: queuedAt } = turnJobSchema.parse(job.data);
    const log = this.options.log.child({ requestId: request.eventId, jobId: job.id, thread: threadKey, attempt: job.attemptsMade + 1 });
    const { seq, current } = await timed("thread order", async () => {
      // The event's claim names its place: it moved if a cut enqueue was taken over by a re-delivery.
      const seq = (job.id && (await this.claims.seqOf(job.id))) || queuedAt;
      let current = await this.order.current(threadKey);
      while (seq > current && (await this.skipIfGap(threadKey, current, log))) current = await this.order.current(threadKey);
      return { seq, current };
    });
    if (seq < current) {
      log.warn({ seq, current }, "turn already passed in its thread; skipping");
      return;
    }
    if (seq > current) {
      await job.moveToDelayed(Date.now() + ORDER_RECHECK_MS, token);
      throw new DelayedError();
    }
    const platformDelivery = this.options.deliveries[request.conversation.platform];
    if (!platformDelivery) throw new UnrecoverableError(`no delivery for platform ${request.conversation.platform}`);
    // A run of a schedule is judged when its turn comes: skipped, or refused in the thread, it ends here.
    const scheduled = request.schedule ? this.options.scheduled : undefined;
    const admission = scheduled ? await scheduled.admit(request, platformDelivery) : { run: true as const };
    if (!admission.run) {
      if (admission.refusal) new TurnReport(this.reporting, request, job.attemptsMade + 1).ended("failed", admission.refusal);
      await this.finish(threadKey, seq);
      return;
    }
    const target = scheduled ? scheduled.delivery(request, platformDelivery) : platformDelivery;
    this.running.set(job.id ?? request.eventId, { job, token });
    const cancel = await this.options.cancels.watch(request.eventId);
    const signal = AbortSignal.any([cancel, timeoutSignal(this.options.turnTimeoutSeconds * 1000)]);
    log.info({ kind: request.kind, attachments: request.attachments.length }, "turn started");
    const report = new TurnReport(this.reporting, request, job.attemptsMade + 1);
    // Status lines go out while the turn goes on; the answer or failure follows them.
    const delivery = new StatusRelay(report.watch(target), log);
    try {
      await this.options.handler.handle(request, { signal, delivery, log, tally: report.tally, lastAttempt: job.attemptsMade + 1 >= (job.opts.attempts ?? 1) });
      report.ended("answered");
      await scheduled?.ended(request, "answered");
      await timed("thread advance", () => this.finish(threadKey, seq));
    } catch (error) {
      const failure = asTurnFailure(error);
      const attempts = job.opts.attempts ?? 1;
      if (failure.retry && job.attemptsMade + 1 < attempts) {
        log.warn({ err: error }, "turn failed; it will be retried");
        report.ended("retried", failure.failure);
        throw error;
      }
      log.warn({ err: error, code: failure.code }, "turn failed");
      report.ended(failure.code === "CANCELLED" ? "cancelled" : "failed", failure.failure);
      // A scheduled run's failure counts towards pausing its schedule, and says so when it does.
      const shown = (await scheduled?.ended(request, failure.code === "CANCELLED" ? "cancelled" : "failed", failure.failure)) ?? failure.failure;
      await delivery.fail(request, failureForPeople(shown, request.eventId)).catch((deliveryError) => log.error({ err: deliveryError }, "could not tell the user"));
      await this.finish(threadKey, seq);
      if (failure.code !== "CANCELLED") throw new UnrecoverableError(failure.message);
    } finally {
      // Nothing of this attempt is left in flight once it is over (a retry starts from quiet).
      await delivery.settled();
      this.running.delete(job.id ?? request.eventId);
      this.options.cancels.release(request.eventId);
    }
  }

  /** Skips the thread's current turn if no job has held it for GAP_GRACE_MS; true when skipped. */
  private async skipIfGap(threadKey: string, current: number, log: Logger): Promise<boolean> {
    const jobId = await this.order.jobAt(threadKey, current);
    const holder = jobId ? await this.queue.getJob(jobId) : undefined;
    // A held place is no gap, unless its job was given another place since (a taken-over claim).
    if (holder && !(await holder.isFailed()) && ((await this.claims.seqOf(holder.id ?? "")) ?? holder.data.seq) === current) return false;
    if (Date.now() - (await this.order.gapSeenAt(threadKey, current)) < GAP_GRACE_MS) return false;
    log.warn({ seq: current, missingJob: jobId ?? null }, "a turn of this thread was never enqueued or was lost; skipping it");
    await this.finish(threadKey, current);
    return true;
  }

  /** Marks the turn done in its thread and lets the thread's next turn run now, not at its next check. */
  private async finish(threadKey: string, seq: number): Promise<void> {
    const nextJobId = await this.order.advance(threadKey, seq);
    if (!nextJobId) return;
    const next = await this.queue.getJob(nextJobId);
    if (next && (await next.isDelayed())) await next.promote().catch(() => undefined);
  }

  /**
   * A turn that no worker could finish (its worker died twice): BullMQ fails it without running
   * any processor, so every worker hears of it here; the first to claim it tells the user.
   */
  private async onFailed(jobId: string, reason: string): Promise<void> {
    if (!STALLED.test(reason)) return;
    const claimed = await this.options.redis.set(this.keys.stalledReported(jobId), "1", "EX", 86_400, "NX");
    const job = claimed ? await this.queue.getJob(jobId) : undefined;
    const parsed = turnJobSchema.safeParse(job?.data);
    if (!parsed.success) return;
    const { request, threadKey } = parsed.data;
    const seq = (await this.claims.seqOf(jobId)) ?? parsed.data.seq;
    this.options.log.error({ requestId: request.eventId, jobId }, "turn lost its worker too often; reporting it");
    const failure = {
      code: "INTERNAL" as const,
      message:
        "Your request was interrupted: the workers running it stopped three times, so it was given up. Code it had already run " +
        "stays run (its files and variables are in this thread's session); ask again to continue from there.",
    };
    recordFailure(this.reporting, request, failure, (job?.attemptsMade ?? 0) + 1);
    const delivery = this.options.deliveries[request.conversation.platform];
    const scheduled = request.schedule ? this.options.scheduled : undefined;
    const shown = (await scheduled?.ended(request, "failed", failure)) ?? failure;
    await (delivery && scheduled ? scheduled.delivery(request, delivery) : delivery)?.fail(request, failureForPeople(shown, request.eventId)).catch(() => undefined);
    await this.finish(threadKey, seq);
  }
}
