import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Sandbox tests start real containers and spin CPUs on purpose: one file at a time on a small machine.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
    reporters: ["default"],
    // The codebot processes tests start never read a developer's .env (test/cli/env-file.test.ts reads its own).
    env: { CODEBOT_ENV_FILE: "none" },
  },
});
