import type { Logger } from "../log.js";
import { RunnerConnection } from "./runner-connection.js";
import { maxFrameBytes, type SandboxLimits } from "./sandbox-limits.js";
import type { SandboxProvider } from "./sandbox-provider.js";
import { READY_TIMEOUT_MS } from "./sandbox-session.js";

/**
 * How long after a claim the pool is topped up: starting a sandbox (a container's creation, and under
 * gVisor its kernel's boot) takes the engine and a CPU for a while, and right after a claim it would
 * compete with the new session's first execution (measured under runsc-systrap: imports + a cell
 * 11.6 -> 8.1 ms median with nothing starting meanwhile). Another claim within it finds the rest of
 * the pool (SANDBOX_POOL_SIZE) or starts cold, as it would while a refill ran.
 */
export const REFILL_AFTER_CLAIM_MS = 1000;

/**
 * An engine's upkeep: its warm pool filled (and its Python warmed), topped up as members end after
 * the idle timeout, and what sessions left behind removed, every so often while a worker runs.
 */
export class PoolUpkeep {
  private timer: NodeJS.Timeout | undefined;
  private soon: NodeJS.Timeout | undefined;

  constructor(
    private readonly provider: SandboxProvider,
    private readonly limits: SandboxLimits,
    private readonly log: Logger,
    /** Told the Python version each warmed member reports. */
    private readonly reported: (python: string | undefined) => void,
  ) {}

  /** Fills the warm pool and waits until every pooled sandbox's Python is ready. */
  async warmUp(): Promise<void> {
    await this.provider.pool.refill();
    const members = await this.provider.pool.members();
    await Promise.all(
      members.map(async (member) => {
        const connection = await RunnerConnection.ready(member, this.log, READY_TIMEOUT_MS, maxFrameBytes(this.limits));
        this.reported(connection.python);
        connection.close();
      }),
    );
  }

  /** Tops the pool up shortly (REFILL_AFTER_CLAIM_MS): a member was just claimed, and its session runs first. */
  refillSoon(): void {
    this.soon ??= setTimeout(() => {
      this.soon = undefined;
      this.provider.pool.refill().catch((error: unknown) => this.log.warn({ err: error }, "could not top up the warm pool"));
    }, REFILL_AFTER_CLAIM_MS).unref();
  }

  /** Tops the pool up and removes what sessions left behind every intervalMs. */
  keepWarm(intervalMs: number): void {
    clearInterval(this.timer);
    this.timer = setInterval(() => void this.tidy(), intervalMs);
    this.timer.unref();
  }

  /** Tops the pool up and removes what sessions left behind (after an engine restart, say). */
  async tidy(): Promise<void> {
    const removed = await this.provider.removeLeftovers().catch(() => ({}));
    if (Object.values(removed).some((count) => count > 0)) this.log.info(removed, "removed what ended sessions left behind");
    await this.provider.pool.refill().catch(() => undefined);
  }

  /** Stops the upkeep and waits for a refill under way. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    clearTimeout(this.soon);
    this.soon = undefined;
    await this.provider.pool.refill().catch(() => undefined);
  }
}
