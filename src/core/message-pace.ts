/**
 * Keeps the drafts of a message (the answer so far) at least an interval apart from every other
 * change of it (a status line, an earlier draft): platforms rate-limit edits per message and per
 * channel, and a 429 would only slow the answer down. Status lines and the answer itself don't
 * wait (they are few); they are counted.
 */
export class MessagePace {
  private readonly last = new Map<string, number>();

  constructor(private readonly intervalMs: number) {}

  /** Waits until the message may change again, and counts the change about to be made. */
  async turn(key: string): Promise<void> {
    const wait = (this.last.get(key) ?? Number.NEGATIVE_INFINITY) + this.intervalMs - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    this.last.set(key, Date.now());
  }

  /** Counts a change made without waiting (a status line, the answer): later paced ones keep clear of it. */
  mark(key: string): void {
    this.last.set(key, Date.now());
  }

  /** The message is done changing. */
  forget(key: string): void {
    this.last.delete(key);
  }
}
