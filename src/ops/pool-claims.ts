import type Docker from "dockerode";

/** Hears every claim on a warm pool: a hit (a warm sandbox was taken) or a miss (a cold start follows). */
export type PoolClaimListener = (engine: Docker, hit: boolean) => void;

let listener: PoolClaimListener | undefined;

/**
 * The warm pool is built deep inside each SandboxManager, out of reach of a deps object, so its
 * claims are reported to one listener per process: the worker sets it (naming each engine's host),
 * and without one (tests, the CLI) reports go nowhere.
 */
export function listenToPoolClaims(next: PoolClaimListener | undefined): void {
  listener = next;
}

/** Called by WarmPool.claim. */
export function reportPoolClaim(engine: Docker, hit: boolean): void {
  listener?.(engine, hit);
}
