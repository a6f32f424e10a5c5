import type { Redis } from "ioredis";
import { keys } from "../redis/redis-keys.js";

/** What the fleet knows of a host, shared by every worker through Redis. */
export interface HostState {
  /** Failed health checks in a row. */
  failures: number;
  /** Marked down after `downAfter` failures in a row; up again at the first success. */
  down: boolean;
  /** No new sessions; its sessions go to sleep and move at their next turn. */
  drained: boolean;
}

// KEYS: health hash. ARGV: host, ok ('1'/'0'), downAfter. Returns the failures in a row.
const RECORD = `
if ARGV[2] == '1' then redis.call('HDEL', KEYS[1], ARGV[1]) return 0 end
return redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
`;

/** Health and drain marks of the fleet's hosts, in Redis. */
export class HostStates {
  private readonly healthKey: string;
  private readonly drainedKey: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    namespace: string,
    private readonly downAfter: number,
  ) {
    this.healthKey = keys(prefix).fleetFailures(namespace);
    this.drainedKey = keys(prefix).fleetDrained(namespace);
  }

  /** Records a health check; returns whether the host is down now. */
  async record(host: string, ok: boolean): Promise<boolean> {
    const failures = Number(await this.redis.eval(RECORD, 1, this.healthKey, host, ok ? "1" : "0", this.downAfter));
    return failures >= this.downAfter;
  }

  /** Marks the host down at once (a turn found its engine gone). */
  async markDown(host: string): Promise<void> {
    await this.redis.hset(this.healthKey, host, this.downAfter);
  }

  async drain(host: string, drained: boolean): Promise<void> {
    if (drained) await this.redis.sadd(this.drainedKey, host);
    else await this.redis.srem(this.drainedKey, host);
  }

  async all(hosts: string[]): Promise<Map<string, HostState>> {
    const [failures, drained] = await Promise.all([this.redis.hgetall(this.healthKey), this.redis.smembers(this.drainedKey)]);
    const drainedSet = new Set(drained);
    return new Map(hosts.map((host) => {
      const count = Number(failures[host] ?? 0);
      return [host, { failures: count, down: count >= this.downAfter, drained: drainedSet.has(host) }];
    }));
  }
}
