import { AsyncLocalStorage } from "node:async_hooks";
import { channel } from "node:diagnostics_channel";

/**
 * Where a turn's time goes, span by span (`npm run bench:pipeline` prints them). Spans are published
 * on a diagnostics channel, timed with performance.now() (one clock for the whole process); with no
 * subscriber nothing is timed or kept, so a production worker pays one boolean check per span.
 */
export interface TurnSpan {
  /** The turn's event id (undefined: outside any turn). */
  turn: string | undefined;
  name: string;
  /** performance.now() at start and end, in ms. */
  start: number;
  end: number;
  /** For an execution: the milliseconds the sandbox itself reports. */
  sandboxMs?: number;
}

export const TURN_SPAN_CHANNEL = "codebot:turn-span";
const spans = channel(TURN_SPAN_CHANNEL);
const turns = new AsyncLocalStorage<string>();

/** Runs fn as the turn `turnId`: spans timed inside it are that turn's. */
export function inTurn<T>(turnId: string, fn: () => T): T {
  return spans.hasSubscribers ? turns.run(turnId, fn) : fn();
}

/** Times fn as the span `name` of the current turn. */
export async function timed<T>(name: string, fn: () => Promise<T>, sandboxMs?: (result: T) => number | undefined): Promise<T> {
  if (!spans.hasSubscribers) return fn();
  const start = performance.now();
  let result: T | undefined;
  try {
    result = await fn();
    return result;
  } finally {
    const ms = result === undefined ? undefined : sandboxMs?.(result);
    spans.publish({ turn: turns.getStore(), name, start, end: performance.now(), ...(ms === undefined ? {} : { sandboxMs: ms }) } satisfies TurnSpan);
  }
}

/** An instant of the current turn (a span of no length): when it was claimed, say. */
export function markTurn(name: string, turnId?: string): void {
  if (!spans.hasSubscribers) return;
  const now = performance.now();
  spans.publish({ turn: turnId ?? turns.getStore(), name, start: now, end: now } satisfies TurnSpan);
}

/** Calls listener with every span published until the returned function is called. */
export function watchTurnSpans(listener: (span: TurnSpan) => void): () => void {
  const handler = (message: unknown) => listener(message as TurnSpan);
  spans.subscribe(handler);
  return () => spans.unsubscribe(handler);
}
