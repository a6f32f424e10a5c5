import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createTcpServer, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import { S3Store, type S3StoreOptions } from "../../src/workspace/s3-store.js";
import { workspaceIdFor } from "../../src/workspace/workspace-id.js";
import { WorkspaceStoreError } from "../../src/workspace/workspace-store-error.js";
import { freePort } from "../support/redis-server.js";
import { S3RVER_CREDENTIALS, startS3Server, type TestS3 } from "../support/s3-server.js";
import { storeContract } from "./store-contract.js";

let s3: TestS3;
const opened: S3Store[] = [];

beforeAll(async () => {
  // The store takes its credentials from the SDK's default chain, here the environment.
  vi.stubEnv("AWS_ACCESS_KEY_ID", S3RVER_CREDENTIALS.accessKeyId);
  vi.stubEnv("AWS_SECRET_ACCESS_KEY", S3RVER_CREDENTIALS.secretAccessKey);
  vi.stubEnv("AWS_EC2_METADATA_DISABLED", "true");
  s3 = await startS3Server();
});

afterAll(async () => {
  for (const store of opened) store.close();
  await s3?.stop();
  vi.unstubAllEnvs();
});

function s3Store(options: Partial<S3StoreOptions> = {}): S3Store {
  const store = new S3Store({ bucket: s3.bucket, prefix: "", region: "us-east-1", endpoint: s3.endpoint, forcePathStyle: true, ...options });
  opened.push(store);
  return store;
}

let prefixes = 0;
storeContract("S3 store", async () => s3Store({ prefix: `contract/${++prefixes}` }));

async function failure(promise: Promise<unknown>): Promise<WorkspaceStoreError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(WorkspaceStoreError);
  return error as WorkspaceStoreError;
}

async function rawKeys(prefix: string): Promise<string[]> {
  const client = new S3Client({ region: "us-east-1", endpoint: s3.endpoint, forcePathStyle: true, credentials: S3RVER_CREDENTIALS });
  try {
    const page = await client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix }));
    return (page.Contents ?? []).map((item) => item.Key ?? "").sort();
  } finally {
    client.destroy();
  }
}

describe("S3 store", () => {
  test("keys are <prefix>/<workspaceId>/<name>; the description names the bucket, prefix and endpoint", async () => {
    const store = s3Store({ prefix: "/layout/deep/" });
    expect(store.description).toBe(`s3://${s3.bucket}/layout/deep at ${s3.endpoint}`);
    const id = workspaceIdFor("slack:T1:C1:1700000000.000100");
    await store.put(id, "files/report 1.csv", Buffer.from("a,b"));
    await store.put(id, "meta.json", Buffer.from("{}"));
    expect(await rawKeys("layout/")).toEqual([`layout/deep/${id}/files/report 1.csv`, `layout/deep/${id}/meta.json`]);
  });

  test("an empty prefix puts workspaces at the bucket's top, and other keys there are not workspaces", async () => {
    const store = s3Store();
    expect(store.description).toBe(`s3://${s3.bucket} at ${s3.endpoint}`);
    const id = workspaceIdFor("top");
    await store.put(id, "files/x.txt", Buffer.from("x"));
    expect(await rawKeys(`${id}/`)).toEqual([`${id}/files/x.txt`]);
    // The contract's and the layout test's keys (contract/…, layout/…) share the bucket.
    expect(await store.listWorkspaces()).toEqual([id]);
    await store.deleteWorkspace(id);
    expect(await store.listWorkspaces()).toEqual([]);
  });

  test("a bucket that doesn't exist: check is STORE_UNAVAILABLE, operations STORE_FAILED", async () => {
    const store = s3Store({ bucket: "no-such-bucket-here" });
    const id = workspaceIdFor("t");
    expect((await failure(store.check())).code).toBe("STORE_UNAVAILABLE");
    expect((await failure(store.put(id, "meta.json", Buffer.from("{}")))).code).toBe("STORE_FAILED");
    const read = await failure(store.get(id, "meta.json")); // not "absent": the bucket is missing
    expect(read.code).toBe("STORE_FAILED");
    expect(read.message).toContain("NoSuchBucket");
  });

  test("wrong credentials: check is STORE_UNAVAILABLE and no message holds the secret", async () => {
    // s3rver checks the key id, not V4 signatures.
    vi.stubEnv("AWS_ACCESS_KEY_ID", "AKIAWRONGKEY");
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", "wrong-secret-0123456789");
    try {
      const store = s3Store({ prefix: "credentials" });
      const checked = await failure(store.check());
      expect(checked.code).toBe("STORE_UNAVAILABLE");
      const put = await failure(store.put(workspaceIdFor("t"), "meta.json", Buffer.from("{}")));
      expect(put.code).toBe("STORE_FAILED");
      for (const error of [checked, put]) {
        expect(error.message).toContain(store.description);
        expect(error.message).not.toContain("wrong-secret-0123456789");
      }
      expect(put.message).toContain("InvalidAccessKeyId");
    } finally {
      vi.stubEnv("AWS_ACCESS_KEY_ID", S3RVER_CREDENTIALS.accessKeyId);
      vi.stubEnv("AWS_SECRET_ACCESS_KEY", S3RVER_CREDENTIALS.secretAccessKey);
    }
  });

  describe("a store that is down", () => {
    test("a closed port: check and put fail with STORE_UNAVAILABLE within seconds", async () => {
      const endpoint = `http://127.0.0.1:${await freePort()}`;
      const store = s3Store({ endpoint });
      const started = Date.now();
      const checked = await failure(store.check());
      const put = await failure(store.put(workspaceIdFor("t"), "meta.json", Buffer.from("{}")));
      const listed = await failure(store.listWorkspaces());
      expect(Date.now() - started).toBeLessThan(10_000);
      for (const error of [checked, put, listed]) {
        expect(error.code).toBe("STORE_UNAVAILABLE");
        expect(error.message).toContain(`s3://${s3.bucket} at ${endpoint}`);
        expect(error.message).toContain("ECONNREFUSED");
        expect(error.message).not.toContain(S3RVER_CREDENTIALS.secretAccessKey);
      }
    });

    test("an endpoint answering 503: STORE_UNAVAILABLE after the SDK's 3 tries", async () => {
      let requests = 0;
      const server: Server = createHttpServer((_request, response) => {
        requests++;
        response.writeHead(503, { "content-type": "application/xml" });
        response.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>ServiceUnavailable</Code><Message>Please slow down</Message></Error>');
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      try {
        const store = s3Store({ endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
        const error = await failure(store.put(workspaceIdFor("t"), "meta.json", Buffer.from("{}")));
        expect(error.code).toBe("STORE_UNAVAILABLE");
        expect(error.message).toContain("503");
        expect(requests).toBe(3);
        expect((await failure(store.check())).code).toBe("STORE_UNAVAILABLE");
      } finally {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    });

    test("an endpoint that accepts connections and never answers: STORE_UNAVAILABLE once the socket times out", async () => {
      const sockets = new Set<Socket>();
      const server = createTcpServer((socket) => {
        sockets.add(socket);
        socket.on("error", () => undefined);
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      try {
        const store = s3Store({ endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, socketTimeoutMs: 300 });
        const started = Date.now();
        const error = await failure(store.get(workspaceIdFor("t"), "meta.json"));
        expect(error.code).toBe("STORE_UNAVAILABLE");
        expect(Date.now() - started).toBeLessThan(10_000);
      } finally {
        for (const socket of sockets) socket.destroy();
        await new Promise((resolve) => server.close(resolve));
      }
    });
  });
});
