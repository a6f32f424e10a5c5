import type { Logger } from "../../log.js";
import type { FileRead, FileSource, TreeEntry } from "../file-streams.js";
import { RunnerConnection } from "../runner-connection.js";
import type { SandboxHandle, SupervisorStream, WriteFilesOptions } from "../sandbox-handle.js";
import type { PodApi } from "./kubernetes-api.js";
import { attachToPod } from "./pod-attach.js";
import { readFileOver, writeFilesOver } from "./supervisor-files.js";

const IDLE_CLOSE_MS = 3000;

/**
 * One sandbox pod as a SandboxHandle: the supervisor through the attach subresource, whole files
 * through the supervisor's own "read" and "write" requests on an attachment of the handle's own
 * (never `kubectl cp`'s tar through exec: the pod has no tar to trust, and exec is not granted).
 */
export class KubernetesSandbox implements SandboxHandle {
  private files: Promise<RunnerConnection> | undefined;
  private using = 0;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly api: PodApi,
    readonly id: string,
    private readonly log: Logger,
    private readonly maxFrameBytes: number,
  ) {}

  attach(): Promise<SupervisorStream> {
    return attachToPod(this.api.kc, this.api.namespace, this.id);
  }

  /**
   * Runs a transfer over the attachment files move over: opened when needed, shared by transfers
   * at once and in a row, closed a few seconds after the last (a handle has no end of its own to
   * close it at, and an attachment left open would hold a socket for the pod's life).
   */
  private async transfer<T>(work: (connection: RunnerConnection) => Promise<T>): Promise<T> {
    clearTimeout(this.idleTimer);
    this.using++;
    try {
      const current = this.files && (await this.files.catch(() => undefined));
      if (!current || current.closed) this.files = RunnerConnection.attach(this, this.log, this.maxFrameBytes);
      return await work(await this.files!);
    } finally {
      if (--this.using === 0) this.idleTimer = setTimeout(() => this.close(), IDLE_CLOSE_MS).unref();
    }
  }

  readFile(file: TreeEntry, each: (file: FileRead) => Promise<void>, signal: AbortSignal): Promise<boolean> {
    return this.transfer((connection) => readFileOver(connection, file, each, signal));
  }

  writeFiles(files: Iterable<FileSource> | AsyncIterable<FileSource>, options: WriteFilesOptions): Promise<{ files: number; bytes: number }> {
    return this.transfer((connection) => writeFilesOver(connection, files, options));
  }

  async kill(): Promise<void> {
    this.close();
    await this.api.delete(this.id, 0);
  }

  /** Detaches the file transfers' attachment (the pod keeps running). */
  close(): void {
    clearTimeout(this.idleTimer);
    void this.files?.then((connection) => connection.close(), () => undefined);
    this.files = undefined;
  }
}
