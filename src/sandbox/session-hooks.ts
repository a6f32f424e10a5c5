import type { SandboxSession } from "./sandbox-session.js";

/**
 * What a backend awaits at two points of a session's life, given to it at construction (durable
 * workspaces' WorkspaceHooks). Unlike SessionEvents, which only tell, these are waited for: the
 * session goes on only once they are done.
 */
export interface SessionHooks {
  /**
   * A session just started in a new sandbox (claimed from the pool or started cold), before anything
   * runs in it: its thread's files and variables go back in. It reports its own failures (the
   * session is used anyway, and the first execution says what was lost).
   */
  prepare(sessionId: string, session: SandboxSession): Promise<void>;
  /**
   * A session whose slot was taken for a new one sleeps rather than ends: this saves what must
   * outlive its sandbox (its variables), within the backend's evict timeout. Throwing or taking
   * too long: the sandbox is removed anyway, and its variables are lost.
   */
  sleep(sessionId: string, session: SandboxSession): Promise<void>;
}

/**
 * Where a fleet keeps its sessions (src/fleet): an engine claims a session's place before it starts
 * a sandbox for it, and gives the place up once the session slept, so its next use may go anywhere
 * and no sandbox runs where the catalog doesn't say.
 */
export interface SessionPlacement {
  /** Places the session on this engine if it has no place; SESSION_ELSEWHERE when another has it. */
  claim(sessionId: string): Promise<void>;
  /** The session slept: its sandbox is gone, and no turn has opened it again yet. */
  release(sessionId: string): Promise<void>;
}
