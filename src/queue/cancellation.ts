import type { Redis } from "ioredis";
import type { Keys } from "../redis/redis-keys.js";

const CANCEL_FLAG_SECONDS = 3600;

/** Asks whichever worker runs (or will run) the turn of eventId to stop it. */
export async function requestCancel(redis: Redis, keys: Keys, eventId: string): Promise<void> {
  await redis.set(keys.cancelFlag(eventId), "1", "EX", CANCEL_FLAG_SECONDS);
  await redis.publish(keys.cancelChannel, eventId);
}

/**
 * The worker's side: one subscription for all turns it runs. A turn's AbortSignal fires when a
 * cancel is published for it, or at once if it was cancelled while still queued.
 */
export class CancelListener {
  private readonly running = new Map<string, AbortController>();

  private constructor(
    private readonly redis: Redis,
    private readonly subscriber: Redis,
    private readonly keys: Keys,
  ) {}

  static async start(redis: Redis, keys: Keys): Promise<CancelListener> {
    const subscriber = redis.duplicate();
    subscriber.on("error", () => undefined); // the main connection logs Redis problems
    const listener = new CancelListener(redis, subscriber, keys);
    subscriber.on("message", (_channel: string, eventId: string) => listener.running.get(eventId)?.abort(new Error("cancelled")));
    await subscriber.subscribe(keys.cancelChannel);
    return listener;
  }

  async watch(eventId: string): Promise<AbortSignal> {
    const controller = new AbortController();
    this.running.set(eventId, controller);
    if (await this.redis.exists(this.keys.cancelFlag(eventId))) controller.abort(new Error("cancelled"));
    return controller.signal;
  }

  release(eventId: string): void {
    this.running.delete(eventId);
  }

  async close(): Promise<void> {
    await this.subscriber.quit().catch(() => undefined);
  }
}
