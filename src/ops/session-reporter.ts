import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Redis } from "ioredis";
import type { Logger } from "../log.js";
import type { Keys } from "../redis/redis-keys.js";
import type { SessionInfo } from "../sandbox/sandbox-engine.js";
import type { WorkspaceSummary } from "../workspace/thread-workspaces.js";
import { directoryRowSchema, killedSession, publishSnapshot, SNAPSHOT_EVERY_MS, SNAPSHOT_MAX_SESSIONS, sortRows, withdrawSnapshot, type DirectoryRow } from "./session-directory.js";
import { sessionRows } from "./session-rows.js";

/**
 * Listing the store costs a read per workspace: it is listed at each snapshot while that is quick,
 * else at most a twentieth of the time (a listing of 2 s: every 40 s), and at once whenever the
 * running sessions change or a kill asks.
 */
const WORKSPACES_DUTY = 20;
/** What closing waits for Redis to take the snapshot back. */
const CLOSE_WAIT_MS = 2000;

/** Where a worker's snapshot comes from, and what a kill calls. */
export interface SessionSources {
  /** Sessions running on the engines, from any process; with their host in a fleet. */
  running(): Promise<Array<SessionInfo & { host?: string }>>;
  /** The saved workspaces (none with WORKSPACE_STORE=none). */
  workspaces(): Promise<WorkspaceSummary[]>;
  /** What `codebot sessions kill ID` calls: ends the session and deletes its saved workspace. */
  kill(sessionId: string): Promise<boolean>;
}

/**
 * The worker's side of the admin page's sessions: publishes a snapshot every SNAPSHOT_EVERY_MS and
 * right after a kill, and ends the sessions the page asks it to. Publishing never fails the worker:
 * a listing or a write that fails is logged and tried again at the next tick.
 */
export class SessionReporter {
  readonly worker = `${hostname().replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, 60)}-${process.pid}-${randomBytes(3).toString("hex")}`;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private saved: { at: number; tookMs: number; running: string; list: WorkspaceSummary[] } | undefined;
  private failing = false;
  /** Sleeping sessions in the last snapshot (all of them, past SNAPSHOT_MAX_SESSIONS too). */
  private sleeping: number | undefined;
  private waiting = false;
  private closed = false;

  private constructor(
    private readonly redis: Redis,
    private readonly subscriber: Redis,
    private readonly keys: Keys,
    private readonly sources: SessionSources,
    private readonly log: Logger,
  ) {}

  static async start({ redis, keys, sources, log }: { redis: Redis; keys: Keys; sources: SessionSources; log: Logger }): Promise<SessionReporter> {
    const subscriber = redis.duplicate();
    subscriber.on("error", () => undefined); // the main connection logs Redis problems
    const reporter = new SessionReporter(redis, subscriber, keys, sources, log.child({ component: "admin-sessions" }));
    subscriber.on("message", (_channel: string, message: string) => {
      const sessionId = killedSession(message);
      if (sessionId !== undefined) void reporter.kill(sessionId);
    });
    await subscriber.subscribe(keys.sessionKillChannel);
    void reporter.publish();
    reporter.timer = setInterval(() => reporter.publish(), SNAPSHOT_EVERY_MS);
    reporter.timer.unref();
    return reporter;
  }

  /**
   * Publishes a snapshot after any under way (so a newer one is never overwritten by an older
   * listing). While one waits its turn (Redis or the engine slow), another tick adds nothing.
   */
  publish(fresh = false): Promise<void> {
    if (this.waiting && !fresh) return this.chain;
    this.waiting = true;
    this.chain = this.chain.then(() => {
      this.waiting = false;
      return this.closed ? undefined : this.publishNow(fresh);
    });
    return this.chain;
  }

  /** Sleeping sessions as last listed (at most SNAPSHOT_EVERY_MS old); rejects before the first listing. */
  async sleepingSessions(): Promise<number> {
    if (this.sleeping === undefined) throw new Error("sessions not listed yet");
    return this.sleeping;
  }

  /** Stops; the snapshot is withdrawn if Redis answers within a moment (else it lapses by itself within SNAPSHOT_TTL_MS). */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    this.subscriber.disconnect();
    const withdrawn = this.chain.then(() => withdrawSnapshot(this.redis, this.keys, this.worker)).catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([withdrawn, new Promise((resolve) => (timer = setTimeout(resolve, CLOSE_WAIT_MS)))]);
    clearTimeout(timer);
  }

  private async kill(sessionId: string): Promise<void> {
    try {
      const ended = await this.sources.kill(sessionId);
      this.log.info({ sessionId, ended }, ended ? "session ended from the admin page" : "the admin page asked to end a session this worker doesn't find");
    } catch (error) {
      this.log.warn({ err: error, sessionId }, "could not end a session the admin page asked to end");
    }
    await this.publish(true);
  }

  private async publishNow(fresh: boolean): Promise<void> {
    try {
      const running = await this.sources.running();
      const workspaces = await this.workspaces(fresh, running.map((session) => session.sessionId).sort().join("\n"));
      const hostOf = new Map(running.map((session) => [session.sessionId, session.host]));
      const rows = sortRows(
        sessionRows(running, workspaces).flatMap((row): DirectoryRow[] => {
          const parsed = directoryRowSchema.safeParse({ ...row, host: hostOf.get(row.sessionId) });
          return parsed.success ? [parsed.data] : [];
        }),
      );
      this.sleeping = rows.filter((row) => row.state === "sleeping").length;
      await publishSnapshot(this.redis, this.keys, { worker: this.worker, at: Date.now(), sessions: rows.slice(0, SNAPSHOT_MAX_SESSIONS), omitted: Math.max(0, rows.length - SNAPSHOT_MAX_SESSIONS) });
      this.failing = false;
    } catch (error) {
      // Once per outage: the engine or Redis away is logged by their own checks too.
      if (!this.failing) this.log.warn({ err: error }, "could not publish this worker's sessions for the admin page; trying again");
      this.failing = true;
    }
  }

  /** The store's workspaces, listed again when the last listing is old, a session started or went to sleep, or a kill asks. */
  private async workspaces(fresh: boolean, running: string): Promise<WorkspaceSummary[]> {
    const saved = this.saved;
    if (!fresh && saved && saved.running === running && Date.now() - saved.at < Math.max(SNAPSHOT_EVERY_MS / 2, saved.tookMs * WORKSPACES_DUTY)) return saved.list;
    const started = Date.now();
    const list = await this.sources.workspaces();
    this.saved = { at: Date.now(), tookMs: Date.now() - started, running, list };
    return list;
  }
}
