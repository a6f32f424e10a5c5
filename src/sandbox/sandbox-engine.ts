import type { SandboxError } from "./sandbox-error.js";
import type { SandboxSession } from "./sandbox-session.js";
import type { SessionBackend } from "./session-backend.js";

/** A session alive on an engine, as `codebot sessions list` and the admin page show it. */
export interface SessionInfo {
  sessionId: string;
  /** The backend's short id of the session's sandbox (a container's; a pod's name). */
  sandboxId: string;
  createdAt: Date;
  status: string;
}

/**
 * One engine's sessions: where a thread's sandbox actually runs (one Docker engine today; a
 * Kubernetes namespace next), as a worker runs it and a fleet places sessions on it. SandboxManager
 * implements it over any SandboxProvider. Everything here is by session id or about the engine as
 * a whole; nothing names the engine's own types.
 */
export interface SandboxEngine extends SessionBackend {
  /** Sessions at most on this engine. */
  readonly maxSessions: number;
  /** Drained: no sandbox starts here (HOST_DRAINED), the pool is empty, sessions sleep as soon as unused. */
  readonly isDraining: boolean;
  /** The live session with this id, attaching to or starting its sandbox as needed. */
  session(sessionId: string, owner?: string): Promise<SandboxSession>;
  /** Sessions alive on the engine, in this namespace, from any process. */
  listSessions(): Promise<SessionInfo[]>;
  /** Sessions holding a slot here now (the engine's load, for placement). */
  sessionCount(): Promise<number>;
  /** Warm sandboxes waiting in the pool. */
  pooled(): Promise<number>;
  /** The Python version the image's sandboxes report, once one has (the model's system prompt). */
  pythonVersion(): string | undefined;
  setDraining(draining: boolean): Promise<void>;
  /** Resolves when the engine answers. */
  ping(): Promise<void>;
  /** What keeps sandboxes from starting here at all (checked at a worker's start); undefined when all is well. */
  setupProblem(): Promise<SandboxError | undefined>;
  /** Fills the warm pool and waits until its sandboxes' Python is ready. */
  warmUp(): Promise<void>;
  /** Keeps the pool full and removes leftovers every intervalMs. */
  keepWarm(intervalMs: number): void;
  /** Tops the pool up and removes what ended sessions left behind. */
  tidy(): Promise<void>;
  /** Detaches from every session (they keep running until idle). */
  close(): Promise<void>;
  /** Removes every sandbox of this namespace, pool included. */
  destroyAll(): Promise<void>;
}
