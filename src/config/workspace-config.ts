import { z } from "zod";
import { boolean, integer } from "./config-fields.js";

/**
 * S3 bucket naming rules: 3 to 63 lowercase letters, digits, dots and dashes, a letter or digit at
 * each end, no "..", not an IP address, none of S3's reserved prefixes and suffixes.
 */
function isBucketName(name: string): boolean {
  return (
    /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) &&
    !name.includes("..") &&
    !/^\d+\.\d+\.\d+\.\d+$/.test(name) &&
    !/^(xn--|sthree-|amzn-s3-demo-)/.test(name) &&
    !/(-s3alias|--ol-s3|--x-s3|--table-s3)$/.test(name)
  );
}

/** A key prefix: segments that are neither empty nor `.` / `..`, printable, at most 512 bytes. */
function isKeyPrefix(prefix: string): boolean {
  const trimmed = prefix.replace(/\/+$/, "");
  if (trimmed === "") return true;
  return (
    Buffer.byteLength(trimmed) <= 512 &&
    !/[\p{Cc}\\]/u.test(trimmed) &&
    trimmed.split("/").every((segment) => segment !== "" && segment !== "." && segment !== "..")
  );
}

/** `none`, `s3://bucket[/prefix]`, or a directory (absolute, relative, `~` or `~/…`); no other URL scheme. */
function isWorkspaceStore(value: string): boolean {
  if (value === "none") return true;
  if (value.startsWith("s3://")) {
    const location = value.slice("s3://".length);
    const slash = location.indexOf("/");
    return isBucketName(slash === -1 ? location : location.slice(0, slash)) && (slash === -1 || isKeyPrefix(location.slice(slash + 1)));
  }
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(value)) return false; // s3:/x, S3://x, gs://x: a typo, not a folder
  if (/^~[^/]/.test(value)) return false; // ~user/… isn't expanded
  return !value.includes("\0");
}

/** An http(s) URL without a user or password in it (credentials come from the AWS SDK's own chain). */
function isEndpoint(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === "http:" || url.protocol === "https:") && !url.username && !url.password;
  } catch {
    return false;
  }
}

/** Durable workspaces (src/workspace/): `[workspace]` in .env.example. */
export const workspaceSchema = z.object({
  /** `none`, a directory (`~/…` is under the home directory), or `s3://bucket/prefix`. */
  WORKSPACE_STORE: z
    .string()
    .refine(isWorkspaceStore, "none, a directory, or s3://bucket/prefix with a valid bucket name (3-63 of a-z 0-9 . -)")
    .default("~/.local/share/codebot/workspaces"),
  WORKSPACE_S3_ENDPOINT: z.string().refine(isEndpoint, "an http(s) URL without credentials in it").optional(),
  WORKSPACE_S3_REGION: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "a region name such as us-east-1").default("us-east-1"),
  WORKSPACE_S3_FORCE_PATH_STYLE: boolean(false),
  WORKSPACE_MAX_MB: integer(1024, 1, 1048576),
  WORKSPACE_MAX_STATE_MB: integer(256, 1, 65536),
  WORKSPACE_MAX_FILES: integer(10_000, 1, 1_000_000),
  WORKSPACE_RETENTION_DAYS: integer(30, 1, 3650),
  /** Longest one session's going to sleep may take before a sweep (or a new session it makes room for) goes on without it. */
  WORKSPACE_SLEEP_TIMEOUT_SECONDS: integer(180, 1, 3600),
});

export type WorkspaceConfig = Readonly<z.infer<typeof workspaceSchema>>;
