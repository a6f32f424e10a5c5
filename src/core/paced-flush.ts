/**
 * Calls a flush at most once per interval: the first request runs at once (the first words show
 * without delay), later ones are coalesced into one call when the interval has passed. Never two
 * calls at the same time. Platforms cap how often one message may change; this keeps under it.
 */
export class PacedFlush {
  private lastStart = Number.NEGATIVE_INFINITY;
  private running: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private wanted = false;
  private stopped = false;

  constructor(
    private readonly flush: () => Promise<void>,
    private readonly intervalMs: number,
  ) {}

  /** Something changed: flush now if allowed, else once the interval has passed. */
  request(): void {
    if (this.stopped) return;
    this.wanted = true;
    this.schedule();
  }

  /** No more flushes; resolves once the one under way (if any) has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Resolves when the message may change again: for the last change, made outside the pacer. */
  async nextTurn(): Promise<void> {
    const wait = this.nextAllowedAt() - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }

  /** When the next flush may start (ms since the epoch). */
  nextAllowedAt(): number {
    return this.lastStart + this.intervalMs;
  }

  private schedule(): void {
    if (!this.wanted || this.running || this.timer || this.stopped) return;
    const wait = this.nextAllowedAt() - Date.now();
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.schedule();
      }, wait);
      return;
    }
    this.wanted = false;
    this.lastStart = Date.now();
    this.running = this.flush()
      .catch(() => undefined)
      .finally(() => {
        this.running = undefined;
        this.schedule();
      });
  }
}
