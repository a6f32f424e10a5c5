import type { Duplex } from "node:stream";

/**
 * Keeps a PostgreSQL connection's memory bounded whatever a query returns. pg buffers each protocol
 * message whole, and a cursor's batch of rows whole, before anyone sees them: one 1 GB value would
 * be 1 GB in the worker. The guard reads only the framing of what arrives (a type byte and a length
 * per message) as it arrives, and ends the connection once a message, or a batch, is over its cap.
 * It must start at a message boundary: on a connection that is idle (just taken from the pool).
 */
export class MessageGuard {
  /** Why it ended the connection, once it did. */
  tripped: string | undefined;
  private header = Buffer.alloc(5);
  private headerBytes = 0;
  private bodyLeft = 0;
  private batchBytes = 0;
  private readonly onData = (chunk: Buffer) => this.observe(chunk);

  constructor(
    private readonly stream: Duplex,
    private readonly maxMessageBytes: number,
    private readonly maxBatchBytes: number,
  ) {
    stream.on("data", this.onData);
  }

  /** Bytes received since the batch began: what one cursor read costs. */
  get received(): number {
    return this.batchBytes;
  }

  startBatch(): void {
    this.batchBytes = 0;
  }

  detach(): void {
    this.stream.off("data", this.onData);
  }

  private observe(chunk: Buffer): void {
    if (this.tripped) return;
    this.batchBytes += chunk.length;
    if (this.batchBytes > this.maxBatchBytes) return this.trip(`more than ${mib(this.maxBatchBytes)} arrived for one batch of rows`);
    let at = 0;
    while (at < chunk.length) {
      if (this.bodyLeft > 0) {
        const skipped = Math.min(this.bodyLeft, chunk.length - at);
        this.bodyLeft -= skipped;
        at += skipped;
        continue;
      }
      const taken = Math.min(5 - this.headerBytes, chunk.length - at);
      chunk.copy(this.header, this.headerBytes, at, at + taken);
      this.headerBytes += taken;
      at += taken;
      if (this.headerBytes < 5) return;
      this.headerBytes = 0;
      const length = this.header.readUInt32BE(1) - 4;
      if (length > this.maxMessageBytes) return this.trip(`a row of more than ${mib(this.maxMessageBytes)}`);
      this.bodyLeft = Math.max(0, length);
    }
  }

  private trip(why: string): void {
    this.tripped = why;
    this.detach();
    this.stream.destroy(new Error(`codebot ended the connection: ${why}`));
  }
}

const mib = (bytes: number) => `${Math.round(bytes / 1048576)} MiB`;
