import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { MAX_LOG_BYTES, MAX_LOGGED_TURNS, ThreadLog } from "../../src/export/thread-log.js";
import type { ThreadTurnInput } from "../../src/export/turn-record.js";
import { keys, type Keys } from "../../src/queue/queue-keys.js";
import { createRedis } from "../../src/queue/redis-connection.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";

let server: TestRedis;
let redis: Redis;
let k: Keys;
let prefix: string;
let log: ThreadLog;

beforeAll(async () => {
  server = await startRedis();
  redis = createRedis(server.url);
  prefix = `x${randomBytes(4).toString("hex")}`;
  k = keys(prefix);
  log = new ThreadLog(redis, k);
});

afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

const PNG_HEAD = Buffer.from("89504e470d0a1a0a", "hex");
const turn = (eventId: string, fields: Partial<ThreadTurnInput> = {}): ThreadTurnInput => ({
  eventId,
  at: 1,
  userName: "Ada",
  userText: `question ${eventId}`,
  steps: [{ code: "print(1)", result: { status: "ok", stdout: "1\n", stderr: "", notes: [], images: [] } }],
  answerMarkdown: `answer ${eventId}`,
  ...fields,
});

describe("the thread log", () => {
  test("keeps at most MAX_LOGGED_TURNS turns, dropping the oldest, under the app's prefix with the memory's retention", async () => {
    for (let i = 1; i <= MAX_LOGGED_TURNS + 5; i++) await log.record("local:-:cli:many", turn(`e${i}`));
    const turns = await log.turns("local:-:cli:many");
    expect(turns).toHaveLength(MAX_LOGGED_TURNS);
    expect(turns[0]?.eventId).toBe("e6");
    expect(turns.at(-1)?.answerMarkdown).toBe(`answer e${MAX_LOGGED_TURNS + 5}`);
    const key = `${prefix}:thread:{local:-:cli:many}:export`;
    expect(await redis.llen(key)).toBe(MAX_LOGGED_TURNS);
    const ttl = await redis.ttl(key);
    expect(ttl).toBeGreaterThan(29 * 24 * 3600);
    expect(await redis.ttl(k.thread("local:-:cli:many", "export-bytes"))).toBeGreaterThan(29 * 24 * 3600);
  });

  test("a thread's record stays within MAX_LOG_BYTES: big turns push the oldest out, the newest always stays", async () => {
    const image = { mime: "image/png", data: Buffer.concat([PNG_HEAD, Buffer.alloc(1_500_000, 1)]).toString("base64") };
    const heavy = (id: string) => turn(id, { steps: [{ code: "plt.show()", result: { status: "ok", stdout: "x".repeat(500_000), stderr: "", notes: [], images: [image, image] } }] });
    for (let i = 1; i <= 8; i++) await log.record("t:heavy", heavy(`h${i}`));
    const stored = await redis.lrange(k.thread("t:heavy", "export"), 0, -1);
    const bytes = stored.reduce((sum, entry) => sum + Buffer.byteLength(entry), 0);
    expect(bytes).toBeLessThanOrEqual(MAX_LOG_BYTES);
    expect(Number(await redis.get(k.thread("t:heavy", "export-bytes")))).toBe(bytes);
    const turns = await log.turns("t:heavy");
    expect(turns.length).toBeGreaterThanOrEqual(3);
    expect(turns.length).toBeLessThan(8);
    expect(turns.at(-1)?.eventId).toBe("h8");
    // Per cell: stdout cut at its cap, both images kept (4 MB a turn has room for them).
    expect(turns.at(-1)?.steps[0]?.result.stdout.length).toBeLessThanOrEqual(100_000);
    expect(turns.at(-1)?.steps[0]?.result.images).toHaveLength(2);
  });

  test("a turn delivered twice (taken over by a second worker) counts once; unreadable entries are skipped; clear empties it", async () => {
    await log.record("t:twice", turn("a"));
    await log.record("t:twice", turn("b"));
    await log.record("t:twice", turn("b", { answerMarkdown: "answer b, again" }));
    await redis.rpush(k.thread("t:twice", "export"), "{not json", JSON.stringify({ eventId: "x" }));
    const turns = await log.turns("t:twice");
    expect(turns.map((entry) => [entry.eventId, entry.answerMarkdown])).toEqual([
      ["a", "answer a"],
      ["b", "answer b, again"],
    ]);
    await log.clear("t:twice");
    expect(await log.turns("t:twice")).toEqual([]);
    expect(await redis.exists(k.thread("t:twice", "export-bytes"))).toBe(0);
  });
});
