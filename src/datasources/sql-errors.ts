import { SourceError } from "./source-error.js";

/** Maps a driver's error to what the session is told (never the connection URL). */
export type FailureOf = (error: unknown, source: string, timeoutMs: number) => SourceError;

const seconds = (ms: number) => `${Math.round(ms / 100) / 10}s`;

/** Network errors of a connection that never came up, or went away. */
export const UNREACHABLE_ERRNOS = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ECONNRESET", "EPIPE", "PROTOCOL_CONNECTION_LOST"]);

export function unreachable(source: string, why: string): SourceError {
  return new SourceError("unreachable", `${source} could not be reached (${why}). Try again later, or tell whoever runs codebot.`);
}

/**
 * A pooled connection, within the call's time: waiting for a free one (the pool is at its cap)
 * counts too. One that comes after the call gave up is handed straight back.
 */
export async function connectWithin<C>(
  connect: () => Promise<C>,
  releaseLate: (connection: C) => void,
  timeoutMs: number,
  signal: AbortSignal,
  source: string,
  failure: FailureOf,
  poolBusy: () => boolean = () => false,
): Promise<C> {
  const attempt = connect();
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const gaveUp = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          poolBusy()
            ? new SourceError("timeout", `${source}: no free connection within ${seconds(timeoutMs)} (this worker's connections to it were all busy).`)
            : unreachable(source, `no connection within ${seconds(timeoutMs)}`),
        ),
      timeoutMs,
    );
    onAbort = () => reject(new SourceError("cancelled", "The execution ended before the source was reached."));
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([attempt, gaveUp]);
  } catch (error) {
    attempt.then(releaseLate, () => undefined);
    throw error instanceof SourceError ? error : failure(error, source, timeoutMs);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal.removeEventListener("abort", onAbort);
  }
}

/** The error for a statement codebot itself cancelled: past its time, or because the execution ended. */
export function cancelledOrTimedOut(cancelled: "signal" | "timer" | undefined, source: string, timeoutMs: number): SourceError | undefined {
  if (cancelled === "timer") return timedOut(source, timeoutMs);
  if (cancelled === "signal") return new SourceError("cancelled", `The execution ended: the query on ${source} was cancelled in the database.`);
  return undefined;
}

export function timedOut(source: string, timeoutMs: number): SourceError {
  return new SourceError("timeout", `The query on ${source} ran past its ${seconds(timeoutMs)} and was cancelled in the database. Make it lighter (filter, aggregate, limit).`);
}

export const MULTIPLE_STATEMENTS = "One statement per call: `;`-chained statements are refused (data sources are read-only).";
