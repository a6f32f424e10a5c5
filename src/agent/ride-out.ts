/**
 * Rides out a passing outage (the model endpoint, the Docker engine): retries task with backoff
 * (1 s doubling to 15 s) while its error is transient, for up to waitMs, telling the user once that
 * it is waiting. The last error is thrown when the window is over, the error is not transient, or
 * the turn is cancelled.
 */
export interface RideOutOptions {
  waitMs: number;
  signal: AbortSignal;
  transient(error: unknown): boolean;
  /** Called once, before the first wait: a status for the user. */
  onWait(): Promise<void>;
}

const FIRST_DELAY_MS = 1000;
const MAX_DELAY_MS = 15_000;

export async function rideOut<T>(task: (attempt: number) => Promise<T>, options: RideOutOptions): Promise<T> {
  const started = Date.now();
  let delay = FIRST_DELAY_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      return await task(attempt);
    } catch (error) {
      if (!options.transient(error) || options.signal.aborted || Date.now() - started + delay > options.waitMs) throw error;
      if (attempt === 1) await options.onWait();
      await abortableSleep(delay, options.signal);
      delay = Math.min(delay * 2, MAX_DELAY_MS);
    }
  }
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
