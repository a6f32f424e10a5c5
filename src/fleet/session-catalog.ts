import type { Redis } from "ioredis";
import { z } from "zod";
import { SandboxError } from "../sandbox/sandbox-error.js";
import type { SessionPlacement } from "../sandbox/session-hooks.js";
import { keys } from "../redis/redis-keys.js";

/** Where a thread's session lives: its host, and which placement of it this is. */
export interface Placement {
  host: string;
  /** Counts the thread's placements: a new one after each sleep or move. */
  generation: number;
}

const placementSchema = z.object({ host: z.string(), generation: z.number().int() });

// Places the session on ARGV[2] unless it has a place already; returns the place it has.
// KEYS: catalog hash, generations hash. ARGV: session id, host.
const PLACE = `
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current then return current end
local generation = redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
local placed = cjson.encode({ host = ARGV[2], generation = generation })
redis.call('HSET', KEYS[1], ARGV[1], placed)
return placed
`;

// Clears the session's place if it is still that host's (a racing re-placement is left alone).
const CLEAR = `
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current and cjson.decode(current).host == ARGV[2] then redis.call('HDEL', KEYS[1], ARGV[1]) return 1 end
return 0
`;

/**
 * The fleet's catalog in Redis: thread (session id) → host. A thread is placed once, atomically (two
 * workers racing on its first turn place it on one host), keeps its host across turns and workers,
 * and is cleared when it goes to sleep, ends, or its host is lost, to be placed afresh at its next use.
 * Container names derive from the session id, so no two threads ever share a container.
 */
export class SessionCatalog {
  private readonly catalogKey: string;
  private readonly generationsKey: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    namespace: string,
  ) {
    this.catalogKey = keys(prefix).fleetPlacement(namespace);
    this.generationsKey = keys(prefix).fleetGeneration(namespace);
  }

  async locate(sessionId: string): Promise<Placement | undefined> {
    return this.parse(await this.redis.hget(this.catalogKey, sessionId));
  }

  /** The session's place: the one it has, or `host` if it had none. */
  async place(sessionId: string, host: string): Promise<Placement> {
    const placed = this.parse((await this.redis.eval(PLACE, 2, this.catalogKey, this.generationsKey, sessionId, host)) as string);
    if (!placed) throw new Error("the catalog answered with no placement");
    return placed;
  }

  async clear(sessionId: string, host: string): Promise<boolean> {
    return (await this.redis.eval(CLEAR, 1, this.catalogKey, sessionId, host)) === 1;
  }

  /**
   * One host's side of the catalog, for its engine (SessionPlacement): before a sandbox starts there
   * for a session, the session is placed there (if it had no place), or SESSION_ELSEWHERE when
   * another host has it, for the fleet to route it; once the session slept, its place is cleared.
   */
  placementOn(host: string): SessionPlacement {
    return {
      claim: async (sessionId) => {
        const placed = await this.place(sessionId, host);
        if (placed.host !== host) throw new SandboxError("SESSION_ELSEWHERE", `Session ${sessionId} is placed on host ${placed.host}.`);
      },
      release: async (sessionId) => void (await this.clear(sessionId, host)),
    };
  }

  /** Every placement, for `codebot hosts list` and re-placing a lost host's threads. */
  async all(): Promise<Map<string, Placement>> {
    const raw = await this.redis.hgetall(this.catalogKey);
    const placements = new Map<string, Placement>();
    for (const [sessionId, value] of Object.entries(raw)) {
      const placed = this.parse(value);
      if (placed) placements.set(sessionId, placed);
    }
    return placements;
  }

  private parse(value: string | null): Placement | undefined {
    if (!value) return undefined;
    try {
      const parsed = placementSchema.safeParse(JSON.parse(value));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }
}
