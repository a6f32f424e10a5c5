import type { Redis } from "ioredis";

/** Redis' memory as INFO reports it: what it uses now, its peak, its maxmemory (0: none) and eviction policy. */
export interface RedisMemory {
  usedBytes: number;
  peakBytes: number;
  maxBytes: number;
  policy: string;
}

/** A field of an INFO section (`name:value` lines). */
function field(info: string, name: string): string | undefined {
  return new RegExp(`^${name}:([^\\r\\n]*)`, "m").exec(info)?.[1]?.trim();
}

const bytes = (value: string | undefined) => {
  const parsed = Number(value);
  return Number.isFinite(parsed) && parsed >= 0 ? parsed : 0;
};

/** Reads INFO memory (one round trip). */
export async function readRedisMemory(redis: Redis): Promise<RedisMemory> {
  const info = await redis.info("memory");
  return {
    usedBytes: bytes(field(info, "used_memory")),
    peakBytes: bytes(field(info, "used_memory_peak")),
    maxBytes: bytes(field(info, "maxmemory")),
    policy: (field(info, "maxmemory_policy") ?? "unknown").slice(0, 40),
  };
}

/** The share of maxmemory in use past which the admin page warns. */
export const REDIS_MEMORY_WARN_SHARE = 0.8;
