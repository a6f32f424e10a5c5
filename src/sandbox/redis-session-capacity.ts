import type { Redis } from "ioredis";
import { z } from "zod";
import type { ReserveOutcome, SessionCapacity, SlotRequest } from "./session-capacity.js";

export interface RedisSessionCapacityOptions {
  /** The hash of slots: field = session key, value = {o: owner, u: last use ms, b: busy until ms, h: hibernating until ms}. */
  key: string;
  maxSessions: number;
  /** Live sessions one owner may hold. */
  maxPerOwner: number;
  /** A slot unused for this long (and not busy) belonged to a session that idled out: it is dropped. */
  expireMs: number;
  /** A session idle at least this long may be ended (or put to sleep) to make room for a new one; 0: any session not in use. */
  evictAfterMs: number;
}

/** Every script reads the Redis clock, so all processes agree on time. */
const PRELUDE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/**
 * Reserve, in one step: reuse the session's slot; drop slots that idled out; if a cap is reached,
 * pick victims among idle slots (least recently used first; the owner's own first when the owner's
 * cap is reached) or refuse without changing anything. Victims keep their slot, marked as being
 * hibernated (so no turn uses them while they are ended), until the caller's endHibernation.
 * ARGV: key, owner ('' = none), leaseMs, maxSessions, maxPerOwner, expireMs, evictAfterMs, evict ('1' or '0').
 * A refusal also says how many of the counted sessions are being put to sleep (their slots free up soon).
 */
const RESERVE = `${PRELUDE}
local key, owner = ARGV[1], ARGV[2]
local lease, maxTotal, maxOwner = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local expireMs, evictMs, evict = tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[8] == '1'
local own = redis.call('HGET', KEYS[1], key)
if own then
  local slot = cjson.decode(own)
  slot.h = nil -- its hibernation is over: the container is gone and the session opens afresh
  slot.u = now
  slot.b = math.max(slot.b, now + lease)
  redis.call('HSET', KEYS[1], key, cjson.encode(slot))
  return {'reserved'}
end
local all = redis.call('HGETALL', KEYS[1])
local total, mine, idle = 0, 0, {}
local leaving, leavingMine = 0, 0
local slots = {}
for i = 1, #all, 2 do
  local slot = cjson.decode(all[i + 1])
  local asleep = slot.h and slot.h > now
  if slot.b < now and slot.u < now - expireMs and not asleep then
    redis.call('HDEL', KEYS[1], all[i])
  else
    slots[all[i]] = slot
    total = total + 1
    local isMine = owner ~= '' and slot.o == owner
    if isMine then mine = mine + 1 end
    if asleep then
      leaving = leaving + 1
      if isMine then leavingMine = leavingMine + 1 end
    end
    if evict and slot.b < now and slot.u <= now - evictMs and not asleep then
      table.insert(idle, { k = all[i], u = slot.u, mine = isMine })
    end
  end
end
table.sort(idle, function(a, b) return a.u < b.u end)
local victims, taken = {}, {}
if owner ~= '' and mine >= maxOwner then
  local held = mine
  for _, c in ipairs(idle) do
    if mine < maxOwner then break end
    if c.mine then
      table.insert(victims, c.k)
      taken[c.k] = true
      mine = mine - 1
    end
  end
  if mine >= maxOwner then return {'full', 'user', tostring(held), tostring(maxOwner), tostring(leavingMine)} end
end
local remaining = total - #victims
for _, c in ipairs(idle) do
  if remaining < maxTotal then break end
  if not taken[c.k] then
    table.insert(victims, c.k)
    remaining = remaining - 1
  end
end
if remaining >= maxTotal then return {'full', 'total', tostring(total), tostring(maxTotal), tostring(leaving)} end
for _, v in ipairs(victims) do
  local slot = slots[v]
  slot.h = now + lease
  redis.call('HSET', KEYS[1], v, cjson.encode(slot))
end
redis.call('HSET', KEYS[1], key, cjson.encode({ o = owner, u = now, b = now + lease }))
local reply = {'reserved'}
for _, v in ipairs(victims) do table.insert(reply, v) end
return reply
`;

/** ARGV: key, owner, leaseMs. A live session without a slot is adopted (it exists, so it counts). */
const BEGIN = `${PRELUDE}
local raw = redis.call('HGET', KEYS[1], ARGV[1])
local slot = raw and cjson.decode(raw) or { o = ARGV[2], b = 0 }
if slot.h and slot.h > now then return 'hibernating' end
slot.h = nil
slot.u = now
slot.b = math.max(slot.b, now + tonumber(ARGV[3]))
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(slot))
return 'ok'
`;

/**
 * ARGV: key, idleMs, leaseMs. Only an idle session that nobody uses may be put to sleep. With idleMs
 * 0 a session without a slot (its container runs, but no process with Redis opened it) is adopted.
 */
const START_HIBERNATION = `${PRELUDE}
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then
  if tonumber(ARGV[2]) > 0 then return 0 end
  redis.call('HSET', KEYS[1], ARGV[1], cjson.encode({ o = '', u = now, b = 0, h = now + tonumber(ARGV[3]) }))
  return 1
end
local slot = cjson.decode(raw)
if slot.b >= now or slot.u > now - tonumber(ARGV[2]) or (slot.h and slot.h > now) then return 0 end
slot.h = now + tonumber(ARGV[3])
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(slot))
return 1
`;

/** ARGV: key. Frees the slot if it is still the hibernating one (not opened again meanwhile). */
const END_HIBERNATION = `
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if raw and cjson.decode(raw).h then redis.call('HDEL', KEYS[1], ARGV[1]) end
`;

/** ARGV: key. */
const HIBERNATING = `${PRELUDE}
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if raw and cjson.decode(raw).h and cjson.decode(raw).h > now then return 1 end
return 0
`;

/** ARGV: idleMs. Sessions idle that long, neither busy nor hibernating. */
const IDLE = `${PRELUDE}
local all = redis.call('HGETALL', KEYS[1])
local found = {}
for i = 1, #all, 2 do
  local slot = cjson.decode(all[i + 1])
  if slot.b < now and slot.u <= now - tonumber(ARGV[1]) and not (slot.h and slot.h > now) then table.insert(found, all[i]) end
end
return found
`;

/** ARGV: key. */
const END = `${PRELUDE}
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local slot = cjson.decode(raw)
slot.u = now
slot.b = 0
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(slot))
return 1
`;

/** ARGV: snapshotMs (Redis time before the live list was read), live keys... Drops idle slots not listed. */
const RECONCILE = `${PRELUDE}
local snapshot = tonumber(ARGV[1])
local live = {}
for i = 2, #ARGV do live[ARGV[i]] = true end
local all = redis.call('HGETALL', KEYS[1])
local dropped = 0
for i = 1, #all, 2 do
  local slot = cjson.decode(all[i + 1])
  if not live[all[i]] and slot.b < now and slot.u < snapshot then
    redis.call('HDEL', KEYS[1], all[i])
    dropped = dropped + 1
  end
end
return dropped
`;

const reserveReply = z.union([
  z.tuple([z.literal("reserved")]).rest(z.string()),
  z.tuple([z.literal("full"), z.enum(["total", "user"]), z.coerce.number(), z.coerce.number(), z.coerce.number()]),
]);

/** Session slots in one Redis hash, changed only by Lua scripts: atomic across every worker. */
export class RedisSessionCapacity implements SessionCapacity {
  constructor(
    private readonly redis: Redis,
    private readonly options: RedisSessionCapacityOptions,
  ) {}

  async reserve({ key, owner, leaseMs, evict }: SlotRequest & { evict: boolean }): Promise<ReserveOutcome> {
    const { maxSessions, maxPerOwner, expireMs, evictAfterMs } = this.options;
    const args = [key, owner ?? "", leaseMs, maxSessions, maxPerOwner, expireMs, evictAfterMs, evict ? "1" : "0"];
    const reply = reserveReply.parse(await this.redis.eval(RESERVE, 1, this.options.key, ...args));
    if (reply[0] === "full") return { kind: "full", scope: reply[1], held: reply[2], limit: reply[3], leaving: reply[4] };
    const [, ...evicted] = reply;
    return { kind: "reserved", evicted };
  }

  async begin({ key, owner, leaseMs }: SlotRequest): Promise<"ok" | "hibernating"> {
    return (await this.redis.eval(BEGIN, 1, this.options.key, key, owner ?? "", leaseMs)) === "hibernating" ? "hibernating" : "ok";
  }

  async startHibernation(key: string, idleMs: number, leaseMs: number): Promise<boolean> {
    return (await this.redis.eval(START_HIBERNATION, 1, this.options.key, key, idleMs, leaseMs)) === 1;
  }

  async endHibernation(key: string): Promise<void> {
    await this.redis.eval(END_HIBERNATION, 1, this.options.key, key);
  }

  async hibernating(key: string): Promise<boolean> {
    return (await this.redis.eval(HIBERNATING, 1, this.options.key, key)) === 1;
  }

  async idle(idleMs: number): Promise<string[]> {
    return z.array(z.string()).parse(await this.redis.eval(IDLE, 1, this.options.key, idleMs));
  }

  async end(key: string): Promise<void> {
    await this.redis.eval(END, 1, this.options.key, key);
  }

  async release(key: string): Promise<void> {
    await this.redis.hdel(this.options.key, key);
  }

  count(): Promise<number> {
    return this.redis.hlen(this.options.key);
  }

  async reconcile(live: () => Promise<string[]>): Promise<number> {
    const [seconds, micros] = await this.redis.time();
    const snapshot = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    const keys = await live();
    return Number(await this.redis.eval(RECONCILE, 1, this.options.key, snapshot, ...keys));
  }
}
