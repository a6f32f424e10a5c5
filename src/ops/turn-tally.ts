import type { ExecutionStatus } from "../core/execution-result.js";
import type { TokenUsage } from "../core/token-usage.js";

/**
 * What one attempt of a turn used, filled in as it runs (the model's tokens call by call, each step
 * of code, the bytes in and out), so that a turn that fails half-way still says what it spent.
 * The turn worker makes one per attempt and writes it into the turn's audit line.
 */
export class TurnTally {
  /** The model the turn talked to; none for code run as written and for commands. */
  model: string | undefined;
  /** Model tokens, added to by the agent loop after each call. */
  readonly usage: TokenUsage = { prompt: 0, completion: 0 };
  steps = 0;
  execMs = 0;
  readonly executions: Partial<Record<ExecutionStatus, number>> = {};
  bytesIn = 0;
  bytesOut = 0;

  executed(status: ExecutionStatus, durationMs: number): void {
    this.steps++;
    this.execMs += Math.max(0, durationMs);
    this.executions[status] = (this.executions[status] ?? 0) + 1;
  }
}
