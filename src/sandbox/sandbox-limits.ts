import type { Config } from "../config.js";

/** Every limit a sandbox runs under, each a named config key with a default (see .env.example). */
export interface SandboxLimits {
  memoryBytes: number;
  cpus: number;
  pids: number;
  diskBytes: number;
  tmpBytes: number;
  openFiles: number;
  timeoutMs: number;
  maxOutputBytes: number;
  idleTimeoutSeconds: number;
  maxFileBytes: number;
  /** Files sent back from one turn, all together. */
  maxTurnFileBytes: number;
  maxResultBytes: number;
  maxImages: number;
  maxImageBytes: number;
  maxFilesListed: number;
  shmBytes: number;
  cpuBudgetSeconds: number;
  maxLifetimeSeconds: number;
}

const MIB = 1024 * 1024;

/**
 * The longest line the supervisor can send for one execution with these limits: both streams at
 * their cap (JSON escapes can make a byte six), the value, error and images. The host refuses longer.
 */
export function maxFrameBytes(limits: SandboxLimits): number {
  const images = limits.maxImages * (Math.ceil((limits.maxImageBytes * 4) / 3) + 64);
  const files = limits.maxFilesListed * 6 * 1200;
  return 2 * 6 * limits.maxOutputBytes + 3 * 6 * (limits.maxResultBytes + 200) + images + files + 64 * 1024;
}

export function limitsFromConfig(config: Config): SandboxLimits {
  return {
    memoryBytes: config.SANDBOX_MEMORY_MB * MIB,
    cpus: config.SANDBOX_CPUS,
    pids: config.SANDBOX_PIDS_LIMIT,
    diskBytes: config.SANDBOX_DISK_MB * MIB,
    tmpBytes: config.SANDBOX_TMP_MB * MIB,
    openFiles: config.SANDBOX_NOFILE,
    timeoutMs: config.SANDBOX_TIMEOUT_SECONDS * 1000,
    maxOutputBytes: config.SANDBOX_MAX_OUTPUT_BYTES,
    idleTimeoutSeconds: config.SANDBOX_IDLE_TIMEOUT_SECONDS,
    maxFileBytes: config.SANDBOX_MAX_FILE_MB * MIB,
    maxTurnFileBytes: config.SANDBOX_MAX_TURN_FILES_MB * MIB,
    maxResultBytes: config.SANDBOX_MAX_RESULT_BYTES,
    maxImages: config.SANDBOX_MAX_IMAGES,
    maxImageBytes: config.SANDBOX_MAX_IMAGE_MB * MIB,
    maxFilesListed: config.SANDBOX_MAX_FILES_LISTED,
    shmBytes: config.SANDBOX_SHM_MB * MIB,
    cpuBudgetSeconds: config.SANDBOX_CPU_BUDGET_SECONDS,
    maxLifetimeSeconds: config.SANDBOX_MAX_LIFETIME_SECONDS,
  };
}
