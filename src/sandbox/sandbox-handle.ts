import type { Duplex, Writable } from "node:stream";
import type { FileRead, FileSource, TreeEntry } from "./file-streams.js";

/**
 * A live attachment to a sandbox's supervisor, whatever carries it: one duplex byte stream (Docker's
 * hijacked attach stream; a Kubernetes attach WebSocket), written to as the supervisor's stdin, whose
 * output the backend splits into the supervisor's stdout and stderr (Docker's 8-byte frame headers,
 * the WebSocket's channel bytes). Its "end", "close" or "error" means the sandbox (or the attachment)
 * is gone; destroying it detaches, and the sandbox keeps running.
 */
export interface SupervisorStream {
  readonly stream: Duplex;
  /** Starts passing the output on: the supervisor's stdout to stdout, its stderr to stderr. Called once. */
  demux(stdout: Writable, stderr: Writable): void;
}

export interface WriteFilesOptions {
  /** The files' mode; 0o644 unless given. */
  mode?: number;
  /** The mode of the folders on their way (created, or set if they exist); 0o755 unless given. */
  dirMode?: number;
  /** The whole write fails (TRANSFER_TIMEOUT) past this. */
  timeoutMs: number;
}

/**
 * One running sandbox as its backend hands it to a session (SandboxSession): how to attach to its
 * supervisor, how to move whole files in and out of /mnt/data past what the supervisor's answers
 * carry, and how to stop it. Everything else (executions, listings, small files, snapshots) goes
 * through the supervisor's protocol over the attachment (runner-connection.ts), the same on every
 * backend. Everything that comes out is hostile: each implementation checks it against what was asked.
 */
export interface SandboxHandle {
  /** The backend's id of the sandbox (a container's id or name; a pod's name): for logs and measurements. */
  readonly id: string;
  /** Attaches to the supervisor's stdin, stdout and stderr; several attachments (processes) at once are fine. */
  attach(): Promise<SupervisorStream>;
  /**
   * Streams one listed file of /mnt/data out to `each` (take the body before returning): exactly
   * file.size bytes of a regular file of that path, else it is refused (FILE_TOO_LARGE when its size
   * changed, FILE_NOT_FOUND when it is no longer a regular file) before a byte is handed on. False
   * when it is not there. The signal (the caller's timeout) aborts it, with the signal's reason.
   */
  readFile(file: TreeEntry, each: (file: FileRead) => Promise<void>, signal: AbortSignal): Promise<boolean>;
  /**
   * Writes files at paths relative to /mnt/data (folders on their way included), owned by the
   * sandbox's user, bodies opened one at a time as their turn comes and streamed: the worker holds a
   * few chunks, whatever the files weigh. A body of another length than its size fails the write; a
   * folder the code replaced with a link is replaced in turn, never followed.
   */
  writeFiles(files: Iterable<FileSource> | AsyncIterable<FileSource>, options: WriteFilesOptions): Promise<{ files: number; bytes: number }>;
  /** Stops the sandbox now (an execution lost it): its files and variables are gone. */
  kill(): Promise<void>;
}
