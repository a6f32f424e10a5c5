import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import { loadConfig } from "../../src/config.js";
import { createWorkspaceStore } from "../../src/workspace/create-workspace-store.js";
import { DirectoryStore } from "../../src/workspace/directory-store.js";
import { S3Store } from "../../src/workspace/s3-store.js";
import { workspaceIdFor } from "../../src/workspace/workspace-id.js";
import { S3RVER_CREDENTIALS, startS3Server, type TestS3 } from "../support/s3-server.js";

describe("the workspace store comes from WORKSPACE_STORE", () => {
  test("none: durable workspaces are off", () => {
    expect(createWorkspaceStore(loadConfig({ WORKSPACE_STORE: "none" }))).toBeUndefined();
  });

  test("by default, a directory under the home directory", () => {
    const store = createWorkspaceStore(loadConfig({}));
    expect(store).toBeInstanceOf(DirectoryStore);
    expect(store?.description).toBe(`directory ${path.join(os.homedir(), ".local/share/codebot/workspaces")}`);
  });

  test("a directory: absolute, relative to the working directory, or under ~", () => {
    expect(createWorkspaceStore(loadConfig({ WORKSPACE_STORE: "/var/lib/codebot/workspaces" }))?.description).toBe("directory /var/lib/codebot/workspaces");
    expect(createWorkspaceStore(loadConfig({ WORKSPACE_STORE: "data/workspaces" }))?.description).toBe(`directory ${path.resolve("data/workspaces")}`);
    expect(createWorkspaceStore(loadConfig({ WORKSPACE_STORE: "~/ws" }))?.description).toBe(`directory ${path.join(os.homedir(), "ws")}`);
    expect(createWorkspaceStore(loadConfig({ WORKSPACE_STORE: "~" }))?.description).toBe(`directory ${os.homedir()}`);
  });

  test("s3://bucket/prefix: an S3 store", () => {
    const store = createWorkspaceStore(loadConfig({ WORKSPACE_STORE: "s3://my-bucket/codebot/prod/" }));
    expect(store).toBeInstanceOf(S3Store);
    expect(store?.description).toBe("s3://my-bucket/codebot/prod");
    (store as S3Store).close();
    const top = createWorkspaceStore(loadConfig({ WORKSPACE_STORE: "s3://my-bucket", WORKSPACE_S3_ENDPOINT: "https://minio.internal:9000/" }));
    expect(top?.description).toBe("s3://my-bucket at https://minio.internal:9000");
    (top as S3Store).close();
  });

  describe("against an S3-compatible server", () => {
    let s3: TestS3;
    beforeAll(async () => {
      vi.stubEnv("AWS_ACCESS_KEY_ID", S3RVER_CREDENTIALS.accessKeyId);
      vi.stubEnv("AWS_SECRET_ACCESS_KEY", S3RVER_CREDENTIALS.secretAccessKey);
      vi.stubEnv("AWS_EC2_METADATA_DISABLED", "true");
      s3 = await startS3Server();
    });
    afterAll(async () => {
      await s3?.stop();
      vi.unstubAllEnvs();
    });

    test("endpoint, region and path style come from WORKSPACE_S3_*", async () => {
      const store = createWorkspaceStore(
        loadConfig({ WORKSPACE_STORE: `s3://${s3.bucket}/from-config`, WORKSPACE_S3_ENDPOINT: s3.endpoint, WORKSPACE_S3_FORCE_PATH_STYLE: "true", WORKSPACE_S3_REGION: "eu-west-3" }),
      );
      if (!store) throw new Error("no store");
      try {
        await store.check();
        const id = workspaceIdFor("configured");
        await store.put(id, "meta.json", Buffer.from("{}"));
        expect((await store.get(id, "meta.json"))?.toString()).toBe("{}");
        expect(await store.listWorkspaces()).toEqual([id]);
      } finally {
        (store as S3Store).close();
      }
    });
  });
});
