import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import type { Keys } from "../../redis/redis-keys.js";

const BLOB_URL = /^blob:([0-9a-f-]{36})$/;

/**
 * Bytes the local chat hands to a worker that may run on another machine: stored in Redis under
 * a random key for a while and referenced from the job as `blob:<id>`, never inlined in it.
 */
export class BlobStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly ttlSeconds = 3600,
  ) {}

  async put(data: Buffer): Promise<string> {
    const id = randomUUID();
    await this.redis.set(this.keys.blob(id), data, "EX", this.ttlSeconds);
    return `blob:${id}`;
  }

  /** The bytes behind a blob URL, or undefined when it expired or never existed. */
  async get(url: string): Promise<Buffer | undefined> {
    const id = BLOB_URL.exec(url)?.[1];
    if (!id) return undefined;
    return (await this.redis.getBuffer(this.keys.blob(id))) ?? undefined;
  }
}
