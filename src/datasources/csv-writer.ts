import type { ByteSink } from "./data-sources.js";

/**
 * A SQL result as the session reads it (codebot/table_file.py): CSV without a header, one line
 * per row, NULL as an unquoted \N, a field quoted when it holds a quote, a comma, a line break or
 * is itself \N. Rows are gathered into chunks of about CHUNK_BYTES and written to the sink as each
 * fills (waiting while the sandbox's stream is full), so a call holds one chunk at a time.
 */

export const NULL_FIELD = "\\N";
const CHUNK_BYTES = 256 * 1024;
const NEEDS_QUOTES = /[",\r\n]/;

/** A field's text, quoted when CSV needs it. */
export function csvField(text: string): string {
  return NEEDS_QUOTES.test(text) || text === NULL_FIELD ? `"${text.replace(/"/g, '""')}"` : text;
}

export class CsvWriter {
  private lines: string[] = [];
  private pending = 0;
  /** Bytes written (or gathered) so far. */
  bytes = 0;
  rows = 0;
  /** Which columns have held a NULL so far (the session reads the others with plain numpy dtypes, faster). */
  readonly nulls: boolean[] = [];

  constructor(
    private readonly sink: ByteSink,
    private readonly maxBytes: number,
  ) {}

  /**
   * Adds a row of fields (already CSV text, NULL_FIELD for NULL); false, and nothing added, when it
   * would pass maxBytes. Once `full`, the caller flushes before adding more.
   */
  row(fields: string[]): boolean {
    const line = `${fields.join(",")}\n`;
    const size = Buffer.byteLength(line);
    if (this.bytes + size > this.maxBytes) return false;
    for (let i = 0; i < fields.length; i++) if (fields[i] === NULL_FIELD) this.nulls[i] = true;
    this.lines.push(line);
    this.pending += size;
    this.bytes += size;
    this.rows++;
    return true;
  }

  /** A chunk's worth is gathered: flush it. */
  get full(): boolean {
    return this.pending >= CHUNK_BYTES;
  }

  async flush(): Promise<void> {
    if (!this.lines.length) return;
    const chunk = Buffer.from(this.lines.join(""));
    this.lines = [];
    this.pending = 0;
    await this.sink.write(chunk);
  }
}
