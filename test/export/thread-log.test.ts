import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ExportQuota } from "../../src/export/export-quota.js";
import { MAX_LOG_BYTES, MAX_LOGGED_TURNS, ThreadLog } from "../../src/export/thread-log.js";
import type { ThreadTurnInput } from "../../src/export/turn-record.js";
import { keys, type Keys } from "../../src/redis/redis-keys.js";
import { createRedis } from "../../src/redis/redis-connection.js";
import { DirectoryStore } from "../../src/workspace/directory-store.js";
import { EXPORT_PREFIX, workspaceLogImages } from "../../src/export/workspace-log-images.js";
import { threadWorkspaceId } from "../../src/workspace/workspace-id.js";
import { startRedis, type TestRedis } from "../support/redis-server.js";

const NAMESPACE = "cbt-log";
let server: TestRedis;
let redis: Redis;
let k: Keys;
let prefix: string;
let storeDir: string;
let store: DirectoryStore;
let log: ThreadLog;

beforeAll(async () => {
  server = await startRedis();
  redis = createRedis(server.url);
  prefix = `x${randomBytes(4).toString("hex")}`;
  k = keys(prefix);
  storeDir = mkdtempSync(join(tmpdir(), "codebot-log-store-"));
  store = new DirectoryStore(storeDir);
  log = new ThreadLog(redis, k, { images: workspaceLogImages(store, NAMESPACE) });
});

afterAll(async () => {
  redis.disconnect();
  await server.stop();
  rmSync(storeDir, { recursive: true, force: true });
});

const PNG_HEAD = Buffer.from("89504e470d0a1a0a", "hex");
const png = (size: number, fill = 1) => ({ mime: "image/png", data: Buffer.concat([PNG_HEAD, Buffer.alloc(size, fill)]).toString("base64") });
const turn = (eventId: string, fields: Partial<ThreadTurnInput> = {}): ThreadTurnInput => ({
  eventId,
  at: 1,
  userName: "Ada",
  userText: `question ${eventId}`,
  steps: [{ code: "print(1)", result: { status: "ok", stdout: "1\n", stderr: "", notes: [], images: [] } }],
  answerMarkdown: `answer ${eventId}`,
  ...fields,
});
const charted = (eventId: string, images: Array<{ mime: string; data: string }>, stdout = "") =>
  turn(eventId, { steps: [{ code: "plt.show()", result: { status: "ok", stdout, stderr: "", notes: [], images } }] });

/** The export images the store holds for a thread (names relative to its export folder). */
async function storedImages(threadKey: string): Promise<string[]> {
  const objects = await store.list(threadWorkspaceId(NAMESPACE, threadKey));
  return objects.map((object) => object.name).filter((name) => name.startsWith(EXPORT_PREFIX));
}
const redisEntries = (threadKey: string) => redis.lrange(k.thread(threadKey, "export"), 0, -1);

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

  test("images live in the thread's workspace in the store, never in Redis, and come back whole when the thread is exported", async () => {
    const images = [png(40_000, 7), { mime: "image/jpeg", data: Buffer.concat([Buffer.from("ffd8ffe0", "hex"), Buffer.alloc(30_000, 9)]).toString("base64") }];
    expect(await log.record("t:charts", charted("c1", images, "rows 2\n"))).toEqual([]);
    const [entry] = await redisEntries("t:charts");
    expect(entry).not.toContain(images[0]!.data.slice(0, 64));
    expect(entry).not.toContain("iVBORw0KGgo");
    expect(Buffer.byteLength(entry!)).toBeLessThan(2000);
    const names = await storedImages("t:charts");
    expect(names).toHaveLength(2);
    for (const name of names) expect(name).toMatch(/^export\/images\/[0-9a-f]{32}\/[0-9a-f]{16}-0-[01]\.(png|jpg)$/);
    const [exported] = await log.turns("t:charts");
    expect(exported?.steps[0]?.result.images).toEqual(images);
    expect(exported?.steps[0]?.result.notes).toEqual([]);
    // The thread's byte count weighs the entry and its images.
    const imageBytes = images.reduce((sum, image) => sum + Buffer.from(image.data, "base64").length, 0);
    expect(Number(await redis.get(k.thread("t:charts", "export-bytes")))).toBe(Buffer.byteLength(entry!) + imageBytes);
  });

  test("without a workspace store, images are left out (never put in Redis) and the step says so", async () => {
    const bare = new ThreadLog(redis, k);
    await bare.record("t:bare", charted("b1", [png(20_000), png(10_000, 2)]));
    const [entry] = await redisEntries("t:bare");
    expect(entry).not.toContain("iVBORw0KGgo");
    const [exported] = await bare.turns("t:bare");
    expect(exported?.steps[0]?.result.images).toEqual([]);
    expect(exported?.steps[0]?.result.notes[0]).toBe("2 images were left out of the export: no workspace store is configured (WORKSPACE_STORE=none), and images are not kept in Redis.");
  });

  test("an image the store no longer has is left out of the export with a note; a record of the older kind (images inline) still exports", async () => {
    await log.record("t:gone", charted("g1", [png(5_000)]));
    const [name] = await storedImages("t:gone");
    await store.delete(threadWorkspaceId(NAMESPACE, "t:gone"), [name!]);
    const [gone] = await log.turns("t:gone");
    expect(gone?.steps[0]?.result.images).toEqual([]);
    expect(gone?.steps[0]?.result.notes[0]).toBe("1 image is no longer available (the thread's workspace was cleared or has expired).");
    const legacy = charted("old", [png(3_000)]);
    await redis.rpush(k.thread("t:gone", "export"), JSON.stringify({ ...legacy, ranAsWritten: false, steps: legacy.steps.map((step) => ({ ...step, result: { ...step.result } })) }));
    const turns = await log.turns("t:gone");
    expect(turns.at(-1)?.steps[0]?.result.images).toEqual([png(3_000)]);
  });

  test("a thread's record stays within MAX_LOG_BYTES, its images counted: big turns push the oldest out (their images deleted), the newest always stays", async () => {
    const heavy = (id: string) => charted(id, [png(1_500_000, 3), png(1_500_000, 4)], "x".repeat(500_000));
    for (let i = 1; i <= 8; i++) await log.record("t:heavy", heavy(`h${i}`));
    const stored = await redisEntries("t:heavy");
    const json = stored.reduce((sum, entry) => sum + Buffer.byteLength(entry), 0);
    const images = stored.length * 2 * 1_500_008;
    expect(json + images).toBeLessThanOrEqual(MAX_LOG_BYTES);
    expect(Number(await redis.get(k.thread("t:heavy", "export-bytes")))).toBe(json + images);
    // Redis holds the text only: a few hundred KB a turn, the 3 MB of images each are in the store.
    expect(json).toBeLessThan(stored.length * 200_000);
    const turns = await log.turns("t:heavy");
    expect(turns.length).toBeGreaterThanOrEqual(3);
    expect(turns.length).toBeLessThan(8);
    expect(turns.at(-1)?.eventId).toBe("h8");
    expect(turns.at(-1)?.steps[0]?.result.stdout.length).toBeLessThanOrEqual(100_000);
    expect(turns.at(-1)?.steps[0]?.result.images).toHaveLength(2);
    // The dropped turns' images went with them.
    expect(await storedImages("t:heavy")).toHaveLength(turns.length * 2);
  });

  test("a turn delivered twice (taken over by a second worker) counts once; unreadable entries are skipped; clear empties it, images included", async () => {
    await log.record("t:twice", turn("a"));
    await log.record("t:twice", charted("b", [png(1000)]));
    await log.record("t:twice", turn("b", { answerMarkdown: "answer b, again", steps: charted("b", [png(1000, 5)]).steps }));
    await redis.rpush(k.thread("t:twice", "export"), "{not json", JSON.stringify({ eventId: "x" }));
    const turns = await log.turns("t:twice");
    expect(turns.map((entry) => [entry.eventId, entry.answerMarkdown])).toEqual([
      ["a", "answer a"],
      ["b", "answer b, again"],
    ]);
    expect(turns[1]?.steps[0]?.result.images).toEqual([png(1000, 5)]);
    expect(await storedImages("t:twice")).toHaveLength(2);
    await log.clear("t:twice");
    expect(await log.turns("t:twice")).toEqual([]);
    expect(await redis.exists(k.thread("t:twice", "export-bytes"))).toBe(0);
    expect(await storedImages("t:twice")).toEqual([]);
  });
});

describe("what one person may record per day (EXPORT_LOG_MAX_MB_PER_USER_DAY)", () => {
  test("past the day's bytes further records are refused with a note, nothing kept (text or images); others record on; the next day they may again", async () => {
    let now = Date.UTC(2025, 0, 31, 12);
    const quota = new ExportQuota(redis, k, { bytesPerUserDay: 1_000_000, timeZone: "UTC", clock: () => now });
    const limited = new ThreadLog(redis, k, { images: workspaceLogImages(store, NAMESPACE), quota });
    // Each turn weighs ~300 KB (100 KB of text, 200 KB of images): three fit in 1 MB, the fourth doesn't.
    const big = (id: string) => charted(id, [png(100_000, 1), png(100_000, 2)], "y".repeat(100_000));
    for (const id of ["q1", "q2", "q3"]) expect(await limited.record("t:quota-a", big(id), "slack:U1")).toEqual([]);
    const before = { entries: (await redisEntries("t:quota-b")).length, images: (await storedImages("t:quota-b")).length };
    const refused = await limited.record("t:quota-b", big("q4"), "slack:U1");
    expect(refused).toEqual([
      "This turn was not kept for /export: it would pass the 1 MB one person may record for export in a day (EXPORT_LOG_MAX_MB_PER_USER_DAY). Turns are kept again after 00:00 UTC.",
    ]);
    expect((await redisEntries("t:quota-b")).length).toBe(before.entries);
    expect((await storedImages("t:quota-b")).length).toBe(before.images);
    // Someone else, same day: recorded.
    expect(await limited.record("t:quota-b", big("r1"), "discord:42")).toEqual([]);
    // The counter is the person's, per day, and expires a day after its day.
    const counter = k.exportQuota("slack:U1", "day:2025-01-31");
    expect(Number(await redis.get(counter))).toBeGreaterThan(900_000);
    expect(await redis.pttl(counter)).toBeGreaterThan(24 * 3600 * 1000);
    now += 24 * 3600 * 1000;
    expect(await limited.record("t:quota-b", big("q5"), "slack:U1")).toEqual([]);
    expect((await limited.turns("t:quota-b")).map((entry) => entry.eventId)).toEqual(["r1", "q5"]);
  });
});
