import { randomBytes } from "node:crypto";
import { afterAll } from "vitest";
import { loadConfig, type Config } from "../../src/config.js";
import { createLogger } from "../../src/log.js";
import { createSandboxManager } from "../../src/sandbox/docker/create-sandbox-manager.js";
import type { SandboxManager } from "../../src/sandbox/sandbox-manager.js";

/** A namespace of its own for each test file, so files never see each other's sandboxes. */
export function testNamespace(): string {
  return `cbt-${randomBytes(4).toString("hex")}`;
}

export interface SandboxFixture {
  manager: SandboxManager;
  config: Config;
}

/**
 * A real SandboxManager on the real Docker engine and image, configured through the same
 * environment parsing as production. Every sandbox it made is removed after the file's tests,
 * whatever happened in them.
 */
export function useSandboxes(overrides: Record<string, string> = {}): SandboxFixture {
  const config = loadConfig({ ...process.env, SANDBOX_NAMESPACE: testNamespace(), SANDBOX_POOL_SIZE: "1", ...overrides });
  const manager = createSandboxManager(config, createLogger(process.env.LOG_LEVEL ?? "warn"));
  afterAll(async () => {
    await manager.close();
    await manager.destroyAll();
  });
  return { manager, config };
}
