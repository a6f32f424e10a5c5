import type { Logger } from "../log.js";
import type { TableInfo } from "./data-sources.js";
import type { SqlDriver } from "./sql-driver.js";

/**
 * A SQL source's tables as its role can read them, introspected once and kept for
 * schema_refresh_seconds: the model's prompt and sources() read them from here, so a turn never
 * waits on a slow database for more than a moment. After that a read happens in the background;
 * one that fails keeps the last tables (and is tried again at the next use).
 */
export class SchemaCatalog {
  private cached: { at: number; tables: TableInfo[] } | undefined;
  private pending: Promise<TableInfo[] | undefined> | undefined;

  constructor(
    private readonly source: string,
    private readonly driver: SqlDriver,
    private readonly refreshMs: number,
    private readonly timeoutMs: number,
    private readonly log: Logger,
  ) {}

  /** The tables: the cached ones, or a first read waited for at most waitMs (undefined past it). */
  async tables(waitMs: number): Promise<TableInfo[] | undefined> {
    if (this.cached && Date.now() - this.cached.at < this.refreshMs) return this.cached.tables;
    const reading = this.read();
    if (this.cached) return this.cached.tables;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), waitMs)));
    try {
      return await Promise.race([reading, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Reads the tables now (`codebot sources check`), failing as the database does. */
  async refresh(): Promise<TableInfo[]> {
    const tables = await this.driver.introspect(this.timeoutMs);
    this.cached = { at: Date.now(), tables };
    return tables;
  }

  private read(): Promise<TableInfo[] | undefined> {
    this.pending ??= this.refresh()
      .catch((error: unknown) => {
        this.log.warn({ source: this.source, err: { message: (error as Error).message } }, "could not read a data source's tables (the prompt names none)");
        return undefined;
      })
      .finally(() => (this.pending = undefined));
    return this.pending;
  }
}
