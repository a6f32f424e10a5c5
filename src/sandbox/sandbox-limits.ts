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
}

const MIB = 1024 * 1024;

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
  };
}
