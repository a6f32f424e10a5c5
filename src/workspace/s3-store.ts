import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type ListObjectsV2CommandOutput,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { pipeline, Readable } from "node:stream";
import { ExactLength } from "../sandbox/file-streams.js";
import { endpointOrigin, isMissingKey, isNetworkFailure, reason } from "./s3-errors.js";
import { checkObjectName, compareObjectNames, isObjectName } from "./object-name.js";
import { checkWorkspaceId, isWorkspaceId } from "./workspace-id.js";
import type { StoredObject, WorkspaceStore } from "./workspace-store.js";
import { WorkspaceStoreError } from "./workspace-store-error.js";

export interface S3StoreOptions {
  bucket: string;
  /** Key prefix of every workspace ("" for the bucket's top); slashes at its ends are dropped. */
  prefix: string;
  region: string;
  /** Another S3-compatible endpoint (MinIO, R2, Ceph); unset: AWS's for the region. */
  endpoint?: string;
  forcePathStyle: boolean;
  /** Milliseconds to open a connection (default 3000) and of silence on an open one (default 60000). */
  connectionTimeoutMs?: number;
  socketTimeoutMs?: number;
}

/** Tries of one request (the SDK's standard retries with backoff: 5xx, throttling, connection errors). */
const MAX_ATTEMPTS = 3;
/**
 * A streamed put is a multipart upload of parts this large (S3's smallest), at most two in flight;
 * a body shorter than one part is one PutObject. So a transfer holds about 2 parts in memory.
 */
export const STORE_PART_BYTES = 5 * 1024 * 1024;
const PARTS_IN_FLIGHT = 2;
/** DeleteObjects takes at most 1000 keys. */
const DELETE_BATCH = 1000;

/**
 * Workspaces in any S3-compatible store: `<prefix>/<workspaceId>/<name>`. Credentials come from the
 * SDK's default chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, profiles, IAM
 * roles); they are never part of a message. An unreachable endpoint fails within seconds with
 * STORE_UNAVAILABLE (a 3 s connection timeout, 3 tries).
 */
export class S3Store implements WorkspaceStore {
  readonly description: string;
  private readonly client: S3Client;
  private readonly bucket: string;
  /** "" or "prefix/". */
  private readonly base: string;

  constructor(options: S3StoreOptions) {
    const prefix = options.prefix.replace(/^\/+|\/+$/g, "");
    this.bucket = options.bucket;
    this.base = prefix ? `${prefix}/` : "";
    this.description = `s3://${options.bucket}${prefix ? `/${prefix}` : ""}${options.endpoint ? ` at ${endpointOrigin(options.endpoint)}` : ""}`;
    this.client = new S3Client({
      region: options.region,
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      forcePathStyle: options.forcePathStyle,
      maxAttempts: MAX_ATTEMPTS,
      requestHandler: {
        connectionTimeout: options.connectionTimeoutMs ?? 3000,
        // A silent connection fails; a long upload that keeps moving doesn't.
        socketTimeout: options.socketTimeoutMs ?? 60_000,
      },
      // Checksums only where S3 requires them: many S3-compatible stores refuse or mangle the optional ones.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    });
  }

  async put(workspaceId: string, name: string, body: Buffer): Promise<void> {
    const key = this.keyOf(workspaceId, name);
    await this.run("write", () => this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentLength: body.length })));
  }

  async putStream(workspaceId: string, name: string, body: Readable, size: number): Promise<void> {
    let key: string;
    try {
      key = this.keyOf(workspaceId, name);
    } catch (error) {
      body.destroy();
      throw error;
    }
    const checked = pipeline(body, new ExactLength(size, name), () => undefined);
    try {
      await this.run("write", async () => {
        const upload = new Upload({
          client: this.client,
          params: { Bucket: this.bucket, Key: key, Body: checked },
          partSize: STORE_PART_BYTES,
          queueSize: PARTS_IN_FLIGHT,
          leavePartsOnError: false, // a failed upload is aborted: no part is kept, the old object stays
        });
        await upload.done();
      });
    } catch (error) {
      throw (body.errored as Error | null) ?? (checked.errored as Error | null) ?? error; // the body's own failure is what went wrong
    } finally {
      checked.destroy();
      body.destroy();
    }
  }

  async getStream(workspaceId: string, name: string): Promise<{ body: Readable; size: number } | undefined> {
    const key = this.keyOf(workspaceId, name);
    return this.run("read", async () => {
      try {
        const answer = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
        const body = answer.Body as Readable | undefined;
        if (answer.ContentLength === undefined || !Number.isSafeInteger(answer.ContentLength) || answer.ContentLength < 0) {
          body?.destroy();
          throw new WorkspaceStoreError("STORE_FAILED", `${this.description}: an object came without a length`);
        }
        if (!body) return { body: Readable.from([]), size: 0 };
        return { body, size: answer.ContentLength };
      } catch (error) {
        if (isMissingKey(error)) return undefined;
        throw error;
      }
    });
  }

  async get(workspaceId: string, name: string): Promise<Buffer | undefined> {
    const key = this.keyOf(workspaceId, name);
    return this.run("read", async () => {
      try {
        const answer = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
        if (!answer.Body) return Buffer.alloc(0);
        const bytes = await answer.Body.transformToByteArray();
        return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      } catch (error) {
        if (isMissingKey(error)) return undefined;
        throw error;
      }
    });
  }

  async list(workspaceId: string): Promise<StoredObject[]> {
    const folder = this.folderOf(workspaceId);
    return this.run("list", async () => {
      const objects: StoredObject[] = [];
      for await (const page of this.pages(folder)) {
        for (const item of page.Contents ?? []) {
          const name = item.Key?.slice(folder.length);
          // Keys that can't be object names (a console's "folder/" markers) aren't objects of ours.
          if (!isObjectName(name)) continue;
          objects.push({ name, size: item.Size ?? 0, modifiedAt: item.LastModified ?? new Date(0) });
        }
      }
      return objects.sort((a, b) => compareObjectNames(a.name, b.name));
    });
  }

  async delete(workspaceId: string, names: string[]): Promise<void> {
    const keys = names.map((name) => this.keyOf(workspaceId, name));
    await this.run("delete", () => this.deleteKeys(keys));
  }

  async deleteWorkspace(workspaceId: string): Promise<void> {
    const folder = this.folderOf(workspaceId);
    await this.run("delete", async () => {
      const keys: string[] = [];
      for await (const page of this.pages(folder)) {
        for (const item of page.Contents ?? []) if (item.Key) keys.push(item.Key);
      }
      await this.deleteKeys(keys);
    });
  }

  async listWorkspaces(): Promise<string[]> {
    return this.run("list", async () => {
      const ids = new Set<string>();
      for await (const page of this.pages(this.base, "/")) {
        for (const common of page.CommonPrefixes ?? []) {
          const id = common.Prefix?.slice(this.base.length, -1);
          if (isWorkspaceId(id)) ids.add(id);
        }
      }
      return [...ids].sort();
    });
  }

  async check(): Promise<void> {
    try {
      // Listing under the prefix is what the store does most, and needs no more than its own permissions.
      await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.base, MaxKeys: 1 }));
    } catch (error) {
      throw new WorkspaceStoreError("STORE_UNAVAILABLE", `${this.description} can't be used: ${reason(error)}`, { cause: error });
    }
  }

  /** Stops the client's connections (a process that ends needs not). */
  close(): void {
    this.client.destroy();
  }

  private folderOf(workspaceId: string): string {
    return `${this.base}${checkWorkspaceId(workspaceId)}/`;
  }

  private keyOf(workspaceId: string, name: string): string {
    return `${this.folderOf(workspaceId)}${checkObjectName(name)}`;
  }

  private async *pages(prefix: string, delimiter?: string): AsyncGenerator<ListObjectsV2CommandOutput> {
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token, ...(delimiter ? { Delimiter: delimiter } : {}) }),
      );
      yield page;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  private async deleteKeys(keys: string[]): Promise<void> {
    for (let start = 0; start < keys.length; start += DELETE_BATCH) {
      const batch = keys.slice(start, start + DELETE_BATCH);
      const answer = await this.client.send(
        new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }),
      );
      const failed = (answer.Errors ?? []).filter((failure) => failure.Code !== "NoSuchKey");
      if (failed.length) {
        const first = failed[0];
        throw new WorkspaceStoreError("STORE_FAILED", `${this.description}: ${failed.length} object(s) not deleted: ${first?.Code ?? "error"}${first?.Message ? ` (${first.Message})` : ""}`);
      }
    }
  }

  private async run<T>(operation: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof WorkspaceStoreError) throw error;
      if (isNetworkFailure(error)) throw new WorkspaceStoreError("STORE_UNAVAILABLE", `${this.description} is unavailable: ${reason(error)}`, { cause: error });
      throw new WorkspaceStoreError("STORE_FAILED", `${this.description}: can't ${operation}: ${reason(error)}`, { cause: error });
    }
  }
}
