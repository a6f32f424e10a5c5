/** Time limits and connection troubles of the turn worker (turn-worker.ts). */

/** A signal that aborts after ms (its timer never keeps the process up). */
export function timeoutSignal(ms: number): AbortSignal {
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error("timeout")), ms).unref();
  return controller.signal;
}

/** How long closing a connection may take when Redis doesn't answer (nothing is lost: no turn runs). */
export const IDLE_CLOSE_MS = 2000;

/** True when the promise settled within ms; its failure counts as settled (the connection is gone either way). */
export async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const settled = await Promise.race([
    promise.then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
  ]);
  clearTimeout(timer);
  return settled;
}

/** A network failure reaching Redis (refused, reset, unresolvable, timed out), not a bug. */
export function isConnectionError(error: Error): boolean {
  const code = (error as NodeJS.ErrnoException).code ?? "";
  return ["ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "EHOSTUNREACH", "EPIPE"].includes(code) || /Connection is closed/.test(error.message);
}
