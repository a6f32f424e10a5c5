import { afterAll, beforeAll } from "vitest";
import { startDockerEngine, type DockerEngineOptions, type TestEngine } from "./docker-engine-process.js";

export { startDockerEngine, type DockerEngineOptions, type TestEngine };

/**
 * A private engine for a test file: started (image loaded) before its tests, always destroyed after
 * them, whatever happened. Register it before fixtures that use it, so their afterAll runs first.
 */
export function useDockerEngine(options: DockerEngineOptions = {}): { engine: TestEngine } {
  const holder = {} as { engine: TestEngine };
  let starting: Promise<TestEngine> | undefined;
  beforeAll(async () => {
    starting = startDockerEngine(options);
    holder.engine = await starting;
  }, (options.readyTimeoutMs ?? 60_000) + (options.loadTimeoutMs ?? 240_000) + 30_000);
  afterAll(async () => {
    // Even when the start outlived its hook: it ends (loaded, or failed and destroyed itself) and is destroyed here.
    const engine = holder.engine ?? (await starting?.catch(() => undefined));
    await engine?.destroy();
  }, 120_000);
  return holder;
}
