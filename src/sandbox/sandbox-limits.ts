import type { SandboxConfig } from "../config.js";

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
 * A table (a DataFrame or Series that was a cell's last value): at most this many rows and
 * columns shown (index columns included; Slack's table block takes 100 x 20), each text (a cell, a
 * header, a dtype) of at most MAX_TABLE_TEXT UTF-16 units. The runner cuts texts at 200; the host
 * allows a little more. The sandbox-image/runner twins: table_value.py, kernel_frames.py.
 */
export const MAX_TABLE_ROWS = 50;
export const MAX_TABLE_COLUMNS = 20;
export const MAX_TABLE_TEXT = 220;
/** Characters of an image's title (a figure's), which the answer names the image after. */
export const MAX_IMAGE_TITLE = 200;
/** Characters of the path of a table's CSV (relative to /mnt/data, in the runner's hidden folder). */
export const MAX_TABLE_CSV_PATH = 200;

/** A table's JSON at most: its texts at their cap, each UTF-16 unit up to six bytes of escapes. */
const TABLE_FRAME_BYTES = (MAX_TABLE_ROWS + 2) * MAX_TABLE_COLUMNS * (6 * MAX_TABLE_TEXT + 4) + 4096;

/**
 * The longest line the supervisor can send for one execution with these limits: both streams at
 * their cap (JSON escapes can make a byte six), the value, error, images (with their titles) and
 * table. The host refuses longer. supervisor.py's host_frame_bytes is its twin.
 */
export function maxFrameBytes(limits: SandboxLimits): number {
  const images = limits.maxImages * (Math.ceil((limits.maxImageBytes * 4) / 3) + 64 + 6 * MAX_IMAGE_TITLE + 16);
  const files = limits.maxFilesListed * 6 * 1200;
  return 2 * 6 * limits.maxOutputBytes + 3 * 6 * (limits.maxResultBytes + 200) + images + files + TABLE_FRAME_BYTES + 64 * 1024;
}

export function limitsFromConfig(config: SandboxConfig): SandboxLimits {
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
