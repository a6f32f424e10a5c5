import type { ExecutionResult, SandboxFile } from "../core/execution-result.js";
import type { UploadedFile, UploadSource } from "./file-transfer.js";
import type { SandboxLimits } from "./sandbox-limits.js";
import type { ExecuteOptions, SandboxSession } from "./sandbox-session.js";
import type { SessionUse } from "./sandboxes.js";

/** Work done on an operation's outcome while its session is still held. */
export type AfterUse<T> = (session: SandboxSession, outcome: T) => Promise<T>;

/** How a session is put to sleep: it must have been idle idleMs (0: just not in use); evicted: its slot was taken already. */
export interface HibernateHow {
  idleMs?: number;
  evicted?: boolean;
  /** Only if its host is drained (then idleMs does not apply: it sleeps as soon as no one uses it). */
  onlyIfDraining?: boolean;
}

/**
 * Where sessions run: one engine (SandboxEngine), or a fleet of them (src/fleet). What durable
 * workspaces build on: every operation by session id, with work to do while the session is held.
 */
export interface SessionBackend {
  readonly limits: SandboxLimits;
  execute(sessionId: string, code: string, options?: ExecuteOptions & SessionUse, after?: AfterUse<ExecutionResult>): Promise<ExecutionResult>;
  upload(sessionId: string, sources: UploadSource[], use?: SessionUse, after?: AfterUse<UploadedFile[]>): Promise<UploadedFile[]>;
  download(sessionId: string, path: string, maxBytes?: number): Promise<Buffer>;
  listFiles(sessionId: string): Promise<SandboxFile[]>;
  kill(sessionId: string): Promise<boolean>;
  /**
   * Puts a running session to sleep after `save` took what it must (a fleet's place is given up once
   * its sandbox is gone); false when it was not (in use, not running).
   */
  hibernate(sessionId: string, how: HibernateHow, save: (session: SandboxSession) => Promise<void>): Promise<boolean>;
  /** Sessions idle for at least idleMs and not in use. */
  idleSessionIds(idleMs: number): Promise<string[]>;
  /** Sessions that must sleep as soon as no one uses them (their host is drained), not in use now. */
  departingSessionIds(): Promise<string[]>;
  /** Sessions this process has open. */
  openSessionIds(): string[];
}
