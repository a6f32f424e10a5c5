import { describe, expect, test } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";

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

  test("a bad value names the variable and the problem", () => {
    expect(() => loadConfig({ SANDBOX_MEMORY_MB: "lots", SANDBOX_NAMESPACE: "Bad Name" })).toThrow(ConfigError);
    expect(() => loadConfig({ SANDBOX_MEMORY_MB: "lots" })).toThrow(/SANDBOX_MEMORY_MB: Expected number/);
  });
});
