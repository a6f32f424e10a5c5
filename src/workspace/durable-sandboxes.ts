import pMap from "p-map";
import pTimeout, { TimeoutError } from "p-timeout";
import type { ExecutionResult, SandboxFile } from "../core/execution-result.js";
import type { Logger } from "../log.js";
import type { UploadedFile, UploadSource } from "../sandbox/file-transfer.js";
import type { HibernateHow, SessionBackend } from "../sandbox/session-backend.js";
import type { SandboxLimits } from "../sandbox/sandbox-limits.js";
import { DATA_DIR } from "../sandbox/sandbox-paths.js";
import type { ExecuteOptions, SandboxSession } from "../sandbox/sandbox-session.js";
import type { Sandboxes, SessionUse } from "../sandbox/sandboxes.js";
import type { ThreadWorkspaces } from "./thread-workspaces.js";
import type { WorkspaceHooks } from "./workspace-hooks.js";

export interface DurableSandboxesOptions {
  /** Where sessions run: one engine's manager, or a fleet; built with `hooks` as its SessionHooks. */
  manager: SessionBackend;
  /** The workspaces, the saves in flight and what resumes said, shared with the backend's hooks. */
  hooks: WorkspaceHooks;
  /** A session unused this long goes to sleep (SANDBOX_IDLE_TIMEOUT_SECONDS). */
  idleTimeoutMs: number;
  /** How long a sweep waits for one session to go to sleep before it goes on without it (WORKSPACE_SLEEP_TIMEOUT_SECONDS). */
  sleepTimeoutMs: number;
  log: Logger;
}

const SAVE_FAILED_NOTE = "Saving this thread's files to its workspace failed (the store did not answer): they are in the running session, but would be lost if it ended.";
const PRUNE_EVERY_MS = 3_600_000;
/** Sessions put to sleep at once by a sweep (each a snapshot in its sandbox and an upload to the store). */
const SLEEP_CONCURRENCY = 4;
/** How often a worker looks for sessions of drained hosts that no one uses (they sleep at once). */
const DEPARTING_EVERY_MS = 2_000;

/**
 * Sandboxes whose threads outlive their sandboxes: files are saved after every execution that
 * changed them, an idle session goes to sleep (its variables saved, its sandbox removed, its slot
 * freed), and the next use of the thread resumes it in a fresh sandbox (the backend's hooks,
 * WorkspaceHooks). The core sees the same Sandboxes port; the backend knows nothing of workspaces.
 */
export class DurableSandboxes implements Sandboxes {
  private timers: NodeJS.Timeout[] = [];
  private lastPrune = 0;
  /** Sessions this process is putting to sleep now (a slow one is not asked again while it lasts). */
  private readonly sleeping = new Map<string, Promise<void>>();
  /** Sweeps running now, by kind: a sweep never overlaps the previous one of its kind. */
  private readonly sweeping = new Set<string>();

  constructor(private readonly options: DurableSandboxesOptions) {}

  get limits(): SandboxLimits {
    return this.options.manager.limits;
  }

  get workspaces(): ThreadWorkspaces {
    return this.options.hooks.workspaces;
  }

  /**
   * Runs code; the files it changed are saved right after, while the turn goes on (the model's next
   * call, say). The session's next use waits for that save, and so does the turn's answer (settle),
   * so nothing is said to be there that isn't saved.
   */
  async execute(sessionId: string, code: string, options: ExecuteOptions & SessionUse = {}): Promise<ExecutionResult> {
    await this.saved(sessionId);
    return this.options.manager.execute(sessionId, code, options, (session, result) => this.afterExecution(sessionId, session, result));
  }

  /** Waits for the thread's saves in flight; returns what went wrong with them (for the answer), once. */
  settle(sessionId: string): Promise<string[]> {
    return this.options.hooks.saves.settle(sessionId);
  }

  async upload(sessionId: string, sources: UploadSource[], use: SessionUse = {}): Promise<UploadedFile[]> {
    await this.saved(sessionId);
    return this.options.manager.upload(sessionId, sources, use, async (session, uploaded) => {
      const written = uploaded.map((file) => file.path.slice(DATA_DIR.length + 1));
      const notes = await this.checkpoint(sessionId, session, { written, deleted: [], complete: true });
      for (const note of notes) this.options.log.warn({ sessionId, note }, "an uploaded file was not saved to the workspace");
      return uploaded;
    });
  }

  download(sessionId: string, path: string, maxBytes?: number): Promise<Buffer> {
    return this.options.manager.download(sessionId, path, maxBytes);
  }

  listFiles(sessionId: string): Promise<SandboxFile[]> {
    return this.options.manager.listFiles(sessionId);
  }

  /** Ends the session and deletes its workspace for good (/reset, `codebot sessions kill`). */
  async kill(sessionId: string): Promise<boolean> {
    await this.saved(sessionId);
    const had = (await this.workspaces.summary(sessionId).catch(() => undefined)) !== undefined;
    const killed = await this.options.manager.kill(sessionId);
    await this.workspaces.remove(sessionId);
    this.options.hooks.takeResumed(sessionId);
    return killed || had;
  }

  /**
   * Puts the session to sleep now if it is idle for idleMs (0: whenever it is not in use): its
   * variables are saved, then its sandbox is removed. False if it was not (in use, not running).
   * The store failing leaves the session running.
   */
  async hibernate(sessionId: string, how: HibernateHow = {}): Promise<boolean> {
    await this.saved(sessionId);
    return this.options.manager.hibernate(sessionId, how, (session) => this.workspaces.saveState(sessionId, session));
  }

  /**
   * Puts every session idle past the timeout to sleep (any process's: Redis knows), and those of
   * drained hosts that no one uses, and applies the retention hourly. Sessions sleep a few at a
   * time; one that takes longer than the sleep timeout is left to finish on its own (and logged)
   * while the sweep goes on with the others.
   */
  async sweep(): Promise<void> {
    await this.sweepDeparting();
    await this.once("idle", async () => {
      const idle = await this.options.manager.idleSessionIds(this.options.idleTimeoutMs);
      await this.sleepAll(idle, { idleMs: this.options.idleTimeoutMs }, "idle session put to sleep");
      if (Date.now() - this.lastPrune > PRUNE_EVERY_MS) {
        this.lastPrune = Date.now();
        await this.workspaces.prune().catch((error: unknown) => this.options.log.warn({ err: error }, "could not apply the workspace retention"));
      }
    });
  }

  /** Puts the sessions of drained hosts that no one uses to sleep now (they resume on another host). */
  async sweepDeparting(): Promise<void> {
    await this.once("departing", async () => {
      const departing = await this.options.manager.departingSessionIds();
      await this.sleepAll(departing, { onlyIfDraining: true }, "session of a drained host put to sleep");
    });
  }

  /** Sweeps every intervalMs, and drained hosts' sessions every two seconds (a long-running worker calls this). */
  keepSweeping(intervalMs: number): void {
    this.stopSweeping();
    this.timers = [
      setInterval(() => void this.sweep().catch(() => undefined), intervalMs),
      setInterval(() => void this.sweepDeparting().catch(() => undefined), Math.min(intervalMs, DEPARTING_EVERY_MS)),
    ];
    for (const timer of this.timers) timer.unref();
  }

  /** Stops sweeping and puts the sessions this process opened to sleep, if nobody is using them. */
  async close(): Promise<void> {
    this.stopSweeping();
    await this.sleepAll(this.options.manager.openSessionIds(), {}, "session put to sleep at shutdown");
  }

  private stopSweeping(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
  }

  private async once(kind: string, sweep: () => Promise<void>): Promise<void> {
    if (this.sweeping.has(kind)) return;
    this.sweeping.add(kind);
    try {
      await sweep();
    } finally {
      this.sweeping.delete(kind);
    }
  }

  /** Puts sessions to sleep, SLEEP_CONCURRENCY at a time, each given at most the sleep timeout. */
  private async sleepAll(sessionIds: string[], how: HibernateHow, done: string): Promise<void> {
    await pMap(sessionIds, (sessionId) => this.sleepWithin(sessionId, how, done), { concurrency: SLEEP_CONCURRENCY });
  }

  private async sleepWithin(sessionId: string, how: HibernateHow, done: string): Promise<void> {
    if (this.sleeping.has(sessionId)) return; // still going to sleep from an earlier sweep
    const attempt = this.hibernate(sessionId, how).then(
      (slept) => void (slept && this.options.log.info({ sessionId }, done)),
      (error: unknown) => this.options.log.warn({ err: error, sessionId }, "could not put a session to sleep; it keeps running"),
    );
    this.sleeping.set(sessionId, attempt);
    void attempt.finally(() => this.sleeping.delete(sessionId));
    await pTimeout(attempt, { milliseconds: this.options.sleepTimeoutMs }).catch((error: unknown) => {
      if (!(error instanceof TimeoutError)) throw error;
      this.options.log.warn({ sessionId, seconds: this.options.sleepTimeoutMs / 1000 }, "a session is taking too long to go to sleep; going on without it");
    });
  }

  private async afterExecution(sessionId: string, session: SandboxSession, result: ExecutionResult): Promise<ExecutionResult> {
    let { notes, freshSession } = result;
    const resumed = this.options.hooks.takeResumed(sessionId);
    if (resumed && freshSession) {
      notes = [...resumed.notes, ...notes];
      freshSession = false; // said in the resume's own words: the files (and maybe variables) are back
    }
    if (result.changes) this.saveLater(sessionId, session, result.changes);
    return { ...result, notes, freshSession };
  }

  /** Queues a save of what an execution changed, after the session's earlier saves. */
  private saveLater(sessionId: string, session: SandboxSession, changes: NonNullable<ExecutionResult["changes"]>): void {
    this.options.hooks.saves.add(sessionId, () => this.checkpoint(sessionId, session, changes));
  }

  /** Waits for the session's saves in flight (their notes stay for settle). */
  private saved(sessionId: string): Promise<void> {
    return this.options.hooks.saves.saved(sessionId);
  }

  private async checkpoint(sessionId: string, session: SandboxSession, changes: NonNullable<ExecutionResult["changes"]>): Promise<string[]> {
    try {
      return await this.workspaces.checkpoint(sessionId, session, changes);
    } catch (error) {
      this.options.log.warn({ err: error, sessionId }, "could not save the thread's files to its workspace");
      return [SAVE_FAILED_NOTE];
    }
  }
}
