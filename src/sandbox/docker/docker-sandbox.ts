import type { Duplex } from "node:stream";
import type Docker from "dockerode";
import type { FileRead, FileSource, TreeEntry } from "../file-streams.js";
import type { SandboxHandle, SupervisorStream, WriteFilesOptions } from "../sandbox-handle.js";
import { readArchivedFile } from "./archive-reader.js";
import { writeArchive } from "./archive-writer.js";

/**
 * One sandbox container as a SandboxHandle: the supervisor through the engine's attach stream
 * (stdout and stderr multiplexed with Docker's frame headers), whole files through its archive API.
 */
export class DockerSandbox implements SandboxHandle {
  constructor(readonly container: Docker.Container) {}

  get id(): string {
    return this.container.id;
  }

  async attach(): Promise<SupervisorStream> {
    const stream = (await this.container.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true })) as Duplex;
    return { stream, demux: (stdout, stderr) => this.container.modem.demuxStream(stream, stdout, stderr) };
  }

  readFile(file: TreeEntry, each: (file: FileRead) => Promise<void>, signal: AbortSignal): Promise<boolean> {
    return readArchivedFile(this.container, file, each, signal);
  }

  writeFiles(files: Iterable<FileSource> | AsyncIterable<FileSource>, options: WriteFilesOptions): Promise<{ files: number; bytes: number }> {
    return writeArchive(this.container, files, options);
  }

  async kill(): Promise<void> {
    await this.container.kill();
  }
}
