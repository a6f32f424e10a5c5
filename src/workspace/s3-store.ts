import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type ListObjectsV2CommandOutput,
} from "@aws-sdk/client-s3";
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
/** DeleteObjects takes at most 1000 keys. */
const DELETE_BATCH = 1000;

/** Error codes (Node's, the SDK's) that mean the endpoint can't be reached. */
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "EHOSTDOWN",
  "EPROTO",
  "ERR_SOCKET_CONNECTION_TIMEOUT",
  "UND_ERR_CONNECT_TIMEOUT",
]);
const NETWORK_NAMES = new Set(["TimeoutError", "RequestTimeout", "RequestTimeoutException", "NetworkingError"]);

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

interface SdkError {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  cause?: unknown;
  $metadata?: { httpStatusCode?: number };
}

function isMissingKey(error: unknown): boolean {
  const failure = error as SdkError | null;
  if (failure?.name === "NoSuchKey" || failure?.name === "NotFound") return true;
  // A 404 that names no bucket problem: some S3-compatible stores send no error code for a missing key.
  return failure?.$metadata?.httpStatusCode === 404 && failure.name !== "NoSuchBucket";
}

/** Connection errors, timeouts, DNS, and 5xx or throttling left after the SDK's retries. */
function isNetworkFailure(error: unknown): boolean {
  for (let failure = error as SdkError | null, depth = 0; failure && depth < 5; failure = failure.cause as SdkError | null, depth++) {
    if (typeof failure.code === "string" && NETWORK_CODES.has(failure.code)) return true;
    if (typeof failure.name === "string" && NETWORK_NAMES.has(failure.name)) return true;
    const status = failure.$metadata?.httpStatusCode;
    if (status !== undefined && (status >= 500 || status === 429)) return true;
  }
  return false;
}

/** A short reason: the error's code or name and message, which never hold credentials. */
function reason(error: unknown): string {
  const failure = error as SdkError | null;
  const code = typeof failure?.code === "string" ? failure.code : typeof failure?.name === "string" && failure.name !== "Error" ? failure.name : undefined;
  const message = typeof failure?.message === "string" && failure.message && failure.message !== code ? failure.message : undefined;
  const status = failure?.$metadata?.httpStatusCode;
  const text = [code, message].filter(Boolean).join(": ") || "unknown error";
  return status ? `${text} (HTTP ${status})` : text;
}

/** The endpoint without any user or password in it, for messages. */
function endpointOrigin(endpoint: string): string {
  try {
    return new URL(endpoint).origin;
  } catch {
    return "the configured endpoint";
  }
}
