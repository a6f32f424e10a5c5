import { z } from "zod";
import { integer } from "./config-fields.js";

/** One sandbox session and the sessions of one engine (src/sandbox/): `[sandbox]` in .env.example. */
export const sandboxSchema = z.object({
  /** Where sandboxes run: docker (DOCKER_HOST or SANDBOX_HOSTS) or kubernetes (pods in SANDBOX_K8S_NAMESPACE). */
  SANDBOX_BACKEND: z.enum(["docker", "kubernetes"]).default("docker"),
  SANDBOX_IMAGE: z.string().min(1).default("codebot-sandbox:latest"),
  /** "auto": gVisor (runsc) when the engine lists it, else the engine's default; or a runtime's name. */
  SANDBOX_RUNTIME: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "auto, runc, runsc or another runtime the engine lists").default("auto"),
  SANDBOX_NAMESPACE: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,30}$/, "lowercase letters, digits and dashes")
    .default("codebot"),
  SANDBOX_MEMORY_MB: integer(1024, 128, 65536),
  SANDBOX_CPUS: z.coerce.number().min(0.1).max(64).default(1),
  SANDBOX_PIDS_LIMIT: integer(128, 16, 4096),
  SANDBOX_DISK_MB: integer(512, 16, 65536),
  SANDBOX_TMP_MB: integer(64, 8, 4096),
  SANDBOX_NOFILE: integer(1024, 64, 65536),
  SANDBOX_TIMEOUT_SECONDS: integer(60, 1, 3600),
  SANDBOX_MAX_OUTPUT_BYTES: integer(1 << 20, 1024, 64 << 20),
  SANDBOX_IDLE_TIMEOUT_SECONDS: integer(1800, 10, 7 * 24 * 3600),
  SANDBOX_POOL_SIZE: integer(2, 0, 64),
  SANDBOX_MAX_SESSIONS: integer(50, 1, 10000),
  SANDBOX_MAX_SESSIONS_PER_USER: integer(3, 1, 10000),
  SANDBOX_EVICT_IDLE_SECONDS: integer(120, 0, 7 * 24 * 3600),
  SANDBOX_MAX_FILE_MB: integer(100, 1, 4096),
  SANDBOX_MAX_TURN_FILES_MB: integer(50, 1, 4096),
  SANDBOX_MAX_RESULT_BYTES: integer(65536, 256, 16 << 20),
  SANDBOX_MAX_IMAGES: integer(10, 0, 100),
  SANDBOX_MAX_IMAGE_MB: integer(4, 1, 64),
  SANDBOX_MAX_FILES_LISTED: integer(100, 1, 5000),
  SANDBOX_SHM_MB: integer(16, 1, 4096),
  SANDBOX_CPU_BUDGET_SECONDS: integer(3600, 0, 365 * 24 * 3600),
  SANDBOX_MAX_LIFETIME_SECONDS: integer(7 * 24 * 3600, 0, 365 * 24 * 3600),
});

export type SandboxConfig = Readonly<z.infer<typeof sandboxSchema>>;
