import type { RunnerConnection } from "./runner-connection.js";
import type { SandboxError } from "./sandbox-error.js";
import type { SandboxHandle } from "./sandbox-handle.js";
import type { SessionInfo } from "./sandbox-engine.js";

/** A warm sandbox granted to a session (with the connection the grant was asked on: its Python is warm), none, or "taken": a sandbox of the session's name exists already. */
export type PoolClaim = { kind: "claimed"; sandbox: SandboxHandle; connection: RunnerConnection } | { kind: "empty" } | { kind: "taken" };

/**
 * Started sandboxes waiting for a session, their Python already warm. The pool lives in the engine,
 * not in a process, so every codebot process shares it; a member is granted to exactly one claimant
 * by its supervisor ("claim"), then takes the session's name.
 */
export interface WarmPool {
  /** A warm member for the session of that name, renamed to it. */
  claim(name: string): Promise<PoolClaim>;
  /** Starts members until the pool has its size; concurrent calls share one refill. */
  refill(): Promise<void>;
  /** Held: emptied now (members no one claimed meanwhile) and kept empty; released: the next refill fills it. */
  hold(held: boolean): Promise<void>;
  /** The members waiting now (of the current image and settings), oldest first. */
  members(): Promise<SandboxHandle[]>;
}

/**
 * Where one engine's sandboxes run, as a SandboxManager drives it: sandboxes found, started and
 * removed by name (the session's name, session-naming.ts, the same in every process), its warm pool,
 * and what only the engine knows (what runs, what was left behind). Every error that means the
 * engine can't be used is a SandboxError a person can act on (DOCKER_UNAVAILABLE, IMAGE_MISSING,
 * RUNTIME_MISSING). Docker's is src/sandbox/docker/docker-provider.ts.
 */
export interface SandboxProvider {
  /** The running sandbox of that name; one of that name that stopped is removed, and undefined returned. */
  findRunning(name: string): Promise<SandboxHandle | undefined>;
  /** Starts a sandbox of that name, cold; "exists": one of that name is there already (another process's, or one being removed). */
  start(name: string): Promise<SandboxHandle | "exists">;
  /** Removes the sandbox of that name now, with its files; false if there was none. */
  remove(name: string): Promise<boolean>;
  /** Names of the running sandboxes of sessions (not the pool's), from any process. */
  runningSessionNames(): Promise<string[]>;
  /** Sessions of this namespace on the engine, running or stopping, from any process. */
  listSessions(): Promise<SessionInfo[]>;
  readonly pool: WarmPool;
  /** Removes what sessions left behind when they did not end normally; how many of each kind, for the log. */
  removeLeftovers(): Promise<Record<string, number>>;
  /** Removes every sandbox of this namespace, pool included. */
  removeAll(): Promise<void>;
  /** Resolves when the engine answers (readiness, a fleet's health checks). */
  ping(): Promise<void>;
  /** What keeps sandboxes from starting here at all (no engine, image or runtime); undefined when all is well. */
  setupProblem(): Promise<SandboxError | undefined>;
}
