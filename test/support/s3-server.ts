import crypto, { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";

/** The credentials s3rver accepts by default; tests put them in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY. */
export const S3RVER_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } as const;

export interface TestS3 {
  /** http://127.0.0.1:<port>: use with forcePathStyle. */
  endpoint: string;
  /** A bucket made for this server, empty. */
  bucket: string;
  stop(): Promise<void>;
}

interface S3rverOptions {
  address: string;
  port: number;
  directory: string;
  silent: boolean;
  /** Buckets are addressed by path (http://host/bucket/key), as with forcePathStyle. */
  vhostBuckets: boolean;
}
interface ListOptions {
  delimiter?: string;
  startAfter?: string;
  prefix?: string;
  maxKeys?: number;
}
interface FilesystemStore {
  getBucketPath(bucket: string): string;
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
  getMetadata(bucket: string, key: string): Promise<Record<string, unknown>>;
  listObjects(bucket: string, options: ListOptions): Promise<{ objects: unknown[]; commonPrefixes: string[]; isTruncated: boolean }>;
}
interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  httpServer?: Server;
  store: FilesystemStore;
}
// s3rver is CommonJS without types.
const require = createRequire(import.meta.url);
const S3rver = require("s3rver") as new (options: S3rverOptions) => S3rverInstance;
const S3Object = require("s3rver/lib/models/object.js") as new (bucket: string, key: string, content: null, metadata: Record<string, unknown>) => unknown;

/** s3rver's file for an object's body: `<bucket>/<key>._S3rver_object`. */
const OBJECT_SUFFIX = "._S3rver_object";

/**
 * s3rver 3.7 makes ListObjectsV2 continuation tokens with single DES, which Node 17+ (OpenSSL 3)
 * refuses ("digital envelope routines::unsupported"): every truncated listing fails with a 500.
 * DES-CBC is 3DES-CBC with one key three times, which OpenSSL 3 still has: route s3rver's calls
 * there (nothing else in a test process uses "des").
 */
function allowSingleDes(): void {
  const marked = crypto as typeof crypto & { codebotSingleDes?: boolean };
  if (marked.codebotSingleDes) return;
  marked.codebotSingleDes = true;
  const { createCipheriv, createDecipheriv } = crypto;
  const tripled = (key: crypto.CipherKey) => Buffer.concat([key as Buffer, key as Buffer, key as Buffer]);
  Object.assign(crypto, {
    createCipheriv: (algorithm: string, key: crypto.CipherKey, iv: crypto.BinaryLike | null, options?: never) =>
      algorithm === "des" ? createCipheriv("des-ede3-cbc", tripled(key), iv) : createCipheriv(algorithm, key, iv, options),
    createDecipheriv: (algorithm: string, key: crypto.CipherKey, iv: crypto.BinaryLike | null, options?: never) =>
      algorithm === "des" ? createDecipheriv("des-ede3-cbc", tripled(key), iv) : createDecipheriv(algorithm, key, iv, options),
  });
}

/**
 * s3rver keeps an object as `<key>._S3rver_object` (and `.md5`, `._S3rver_metadata.json`), so a
 * key whose last segment has more than ~230 bytes is too long a file name (S3 takes 1024 bytes in
 * one segment). Such segments are kept under a hash of themselves; `longKeys` maps them back.
 */
function shortenLongSegments(store: FilesystemStore, longKeys: Map<string, string>): void {
  const original = store.getResourcePath.bind(store);
  store.getResourcePath = (bucket, key, resource) => {
    if (key === undefined) return original(bucket, key, resource);
    const slash = key.lastIndexOf("/");
    const last = key.slice(slash + 1);
    if (Buffer.byteLength(last) <= 200) return original(bucket, key, resource);
    const short = `${key.slice(0, slash + 1)}~long~${createHash("sha256").update(last).digest("hex")}`;
    longKeys.set(short, key);
    return original(bucket, short, resource);
  };
}

/**
 * s3rver 3.7's ListObjects walks folders in readdir order (not key order), so its pages skip keys
 * past the first 1000, and with a delimiter it misses common prefixes of keys two levels down
 * (`<id>/files/x` under Delimiter "/"). This lists as S3 does: every key in UTF-8 order, common
 * prefixes rolled up, `maxKeys` objects per page after `startAfter`.
 */
function listInKeyOrder(store: FilesystemStore, longKeys: Map<string, string>): FilesystemStore["listObjects"] {
  return async (bucket, { delimiter = "", startAfter = "", prefix = "", maxKeys = Infinity }) => {
    const keys = (await readdir(store.getBucketPath(bucket), { recursive: true, withFileTypes: true }))
      .filter((entry) => entry.isFile() && entry.name.endsWith(OBJECT_SUFFIX))
      .map((entry) => path.relative(store.getBucketPath(bucket), path.join(entry.parentPath, entry.name)).slice(0, -OBJECT_SUFFIX.length))
      .map((key) => longKeys.get(key) ?? key)
      .sort(byUtf8);
    const chosen: string[] = [];
    const commonPrefixes = new Set<string>();
    let isTruncated = false;
    for (const key of keys) {
      if (!key.startsWith(prefix) || (startAfter && byUtf8(key, startAfter) <= 0)) continue;
      const cut = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
      if (cut !== -1) {
        commonPrefixes.add(key.slice(0, cut + delimiter.length));
      } else if (chosen.length < maxKeys) {
        chosen.push(key);
      } else {
        isTruncated = true;
        break;
      }
    }
    const objects = await Promise.all(chosen.map(async (key) => new S3Object(bucket, key, null, await store.getMetadata(bucket, key))));
    return { objects, commonPrefixes: [...commonPrefixes].sort(byUtf8), isTruncated };
  };
}

function byUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/**
 * An in-process S3-compatible server (s3rver) on a free 127.0.0.1 port, storing in a fresh temp
 * directory, with one bucket created through the SDK. `stop` closes it and removes the directory.
 */
export async function startS3Server(): Promise<TestS3> {
  const directory = await mkdtemp(path.join(tmpdir(), "codebot-s3-"));
  const server = new S3rver({ address: "127.0.0.1", port: 0, directory, silent: true, vhostBuckets: false });
  allowSingleDes();
  const longKeys = new Map<string, string>();
  shortenLongSegments(server.store, longKeys);
  server.store.listObjects = listInKeyOrder(server.store, longKeys);
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const bucket = `codebot-test-${randomBytes(4).toString("hex")}`;
  const client = new S3Client({ region: "us-east-1", endpoint, forcePathStyle: true, credentials: S3RVER_CREDENTIALS });
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } finally {
    client.destroy();
  }
  return {
    endpoint,
    bucket,
    stop: async () => {
      server.httpServer?.closeAllConnections();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
