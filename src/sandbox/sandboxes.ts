import type { ExecutionResult, SandboxFile } from "../core/execution-result.js";
import type { UploadedFile, UploadSource } from "./file-transfer.js";
import type { SandboxLimits } from "./sandbox-limits.js";
import type { ExecuteOptions } from "./sandbox-session.js";

/** The user who opens a session owns it, for the per-user cap (`slack:U123`); none: no per-user cap. */
export type SessionUse = { owner?: string };

/**
 * What a turn needs of the thread's sandbox session, by session id (the thread key): the port the
 * agent depends on. SandboxManager implements it; DurableSandboxes adds durable workspaces over it.
 */
export interface Sandboxes {
  readonly limits: SandboxLimits;
  execute(sessionId: string, code: string, options?: ExecuteOptions & SessionUse): Promise<ExecutionResult>;
  upload(sessionId: string, sources: UploadSource[], use?: SessionUse): Promise<UploadedFile[]>;
  /** A file of the session; refused past maxBytes (at most SANDBOX_MAX_FILE_MB) before it is buffered. */
  download(sessionId: string, path: string, maxBytes?: number): Promise<Buffer>;
  listFiles(sessionId: string): Promise<SandboxFile[]>;
  /** Ends the session for good: its variables and files (and any saved workspace) are gone. */
  kill(sessionId: string): Promise<boolean>;
  /** Waits for the session's work in flight (durable workspaces' saves); returns notes for the answer on what went wrong. */
  settle?(sessionId: string): Promise<string[]>;
}
