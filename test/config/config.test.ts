import { describe, expect, test } from "vitest";
import { ConfigError, loadConfig, SECRET_VARIABLES } from "../../src/config.js";

describe("config comes from the environment, validated once", () => {
  test("defaults for every sandbox limit", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      SANDBOX_IMAGE: "codebot-sandbox:latest",
      SANDBOX_MEMORY_MB: 1024,
      SANDBOX_TIMEOUT_SECONDS: 60,
      SANDBOX_POOL_SIZE: 2,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  test("the sandbox runtime is found out from the engine unless named", () => {
    expect(loadConfig({}).SANDBOX_RUNTIME).toBe("auto");
    expect(loadConfig({ SANDBOX_RUNTIME: "" }).SANDBOX_RUNTIME).toBe("auto");
    expect(loadConfig({ SANDBOX_RUNTIME: "runsc" }).SANDBOX_RUNTIME).toBe("runsc");
    expect(loadConfig({ SANDBOX_RUNTIME: "io.containerd.runc.v2" }).SANDBOX_RUNTIME).toBe("io.containerd.runc.v2");
    expect(() => loadConfig({ SANDBOX_RUNTIME: "runsc --network=host" })).toThrow(/SANDBOX_RUNTIME: auto, runc, runsc or another runtime/);
  });

  test("the Kubernetes backend: its namespace, RuntimeClass, seccomp profile and grace period, and no fleet beside it", () => {
    expect(loadConfig({})).toMatchObject({ SANDBOX_BACKEND: "docker", SANDBOX_K8S_NAMESPACE: "codebot-sandboxes", SANDBOX_K8S_GRACE_SECONDS: 30 });
    expect(loadConfig({ SANDBOX_BACKEND: "kubernetes", SANDBOX_K8S_RUNTIME_CLASS: "gvisor", SANDBOX_K8S_SECCOMP_PROFILE: "profiles/codebot.json" })).toMatchObject({ SANDBOX_BACKEND: "kubernetes", SANDBOX_K8S_RUNTIME_CLASS: "gvisor", SANDBOX_K8S_SECCOMP_PROFILE: "profiles/codebot.json" });
    expect(loadConfig({ SANDBOX_K8S_RUNTIME_CLASS: "" }).SANDBOX_K8S_RUNTIME_CLASS).toBeUndefined();
    expect(() => loadConfig({ SANDBOX_BACKEND: "nomad" })).toThrow(/SANDBOX_BACKEND/);
    expect(() => loadConfig({ SANDBOX_K8S_NAMESPACE: "Sandboxes!" })).toThrow(/SANDBOX_K8S_NAMESPACE: a Kubernetes namespace name/);
    expect(() => loadConfig({ SANDBOX_K8S_SECCOMP_PROFILE: "../../etc/profile.json" })).toThrow(/SANDBOX_K8S_SECCOMP_PROFILE: no \.\. in the path/);
    expect(() => loadConfig({ SANDBOX_BACKEND: "kubernetes", SANDBOX_HOSTS: "local=unix:///var/run/docker.sock" })).toThrow(/SANDBOX_HOSTS: a fleet of Docker engines; with SANDBOX_BACKEND=kubernetes/);
  });

  test("durable workspaces: a directory under the home directory by default, with their limits", () => {
    expect(loadConfig({})).toMatchObject({
      WORKSPACE_STORE: "~/.local/share/codebot/workspaces",
      WORKSPACE_S3_REGION: "us-east-1",
      WORKSPACE_S3_FORCE_PATH_STYLE: false,
      WORKSPACE_MAX_MB: 1024,
      WORKSPACE_MAX_STATE_MB: 256,
      WORKSPACE_RETENTION_DAYS: 30,
    });
    expect(loadConfig({}).WORKSPACE_S3_ENDPOINT).toBeUndefined();
    expect(loadConfig({ WORKSPACE_STORE: "none" }).WORKSPACE_STORE).toBe("none");
    expect(loadConfig({ WORKSPACE_STORE: "/srv/codebot" }).WORKSPACE_STORE).toBe("/srv/codebot");
    expect(loadConfig({ WORKSPACE_S3_FORCE_PATH_STYLE: "true" }).WORKSPACE_S3_FORCE_PATH_STYLE).toBe(true);
    expect(() => loadConfig({ WORKSPACE_MAX_MB: "0" })).toThrow(/WORKSPACE_MAX_MB/);
    expect(() => loadConfig({ WORKSPACE_RETENTION_DAYS: "3651" })).toThrow(/WORKSPACE_RETENTION_DAYS/);
  });

  test("an S3 workspace store is s3://bucket/prefix with a valid bucket name", () => {
    for (const good of ["s3://my-bucket", "s3://my-bucket/", "s3://my.bucket-01/codebot/prod", "s3://abc/a b/ü"]) {
      expect(loadConfig({ WORKSPACE_STORE: good }).WORKSPACE_STORE).toBe(good);
    }
    const bad = [
      "s3://",
      "s3:///prefix",
      "s3://ab",
      "s3://My-Bucket",
      "s3://bucket_name",
      "s3://-bucket",
      "s3://bucket-",
      "s3://my..bucket",
      "s3://192.168.1.1",
      "s3://xn--bucket",
      "s3://bucket-s3alias",
      `s3://${"a".repeat(64)}`,
      "s3://bucket//prefix",
      "s3://bucket/../up",
      "s3://bucket/a\\b",
      "S3://bucket",
      "s3:/bucket",
      "gs://bucket",
      "~other/workspaces",
    ];
    for (const value of bad) expect(() => loadConfig({ WORKSPACE_STORE: value }), value).toThrow(/WORKSPACE_STORE: none, a directory, or s3:\/\/bucket\/prefix/);
  });

  test("the S3 endpoint is an http(s) URL without credentials in it", () => {
    expect(loadConfig({ WORKSPACE_S3_ENDPOINT: "http://minio:9000" }).WORKSPACE_S3_ENDPOINT).toBe("http://minio:9000");
    for (const bad of ["minio:9000", "ftp://minio", "http://key:secret@minio:9000"]) {
      expect(() => loadConfig({ WORKSPACE_S3_ENDPOINT: bad }), bad).toThrow(/WORKSPACE_S3_ENDPOINT: an http\(s\) URL without credentials/);
    }
    expect(() => loadConfig({ WORKSPACE_S3_REGION: "us east 1" })).toThrow(/WORKSPACE_S3_REGION/);
  });

  test("the AWS SDK's secrets are secrets", () => {
    expect(SECRET_VARIABLES).toEqual(expect.arrayContaining(["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"]));
  });

  test("ADMIN_USERS: platform:userId entries, nothing else", () => {
    expect(loadConfig({}).ADMIN_USERS).toEqual([]);
    expect(loadConfig({ ADMIN_USERS: " slack:U0123ABCD, discord:123456789012345678 " }).ADMIN_USERS).toEqual(["slack:U0123ABCD", "discord:123456789012345678"]);
    expect(() => loadConfig({ ADMIN_USERS: "U0123ABCD" })).toThrow(/ADMIN_USERS: comma-separated platform:userId entries/);
    expect(() => loadConfig({ ADMIN_USERS: "teams:U1" })).toThrow(/ADMIN_USERS/);
  });

  test("a bad value names the variable and the problem", () => {
    expect(() => loadConfig({ SANDBOX_MEMORY_MB: "lots", SANDBOX_NAMESPACE: "Bad Name" })).toThrow(ConfigError);
    expect(() => loadConfig({ SANDBOX_MEMORY_MB: "lots" })).toThrow(/SANDBOX_MEMORY_MB: Expected number/);
  });
});
