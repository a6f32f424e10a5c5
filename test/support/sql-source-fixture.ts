import { pino } from "pino";
import { afterAll, beforeAll } from "vitest";
import { CallAudit } from "../../src/datasources/call-audit.js";
import type { Caller, DataSources, QueryResult } from "../../src/datasources/data-sources.js";
import { parseDataSources } from "../../src/datasources/source-config.js";
import { SourceError } from "../../src/datasources/source-error.js";
import { SourceRegistry } from "../../src/datasources/source-registry.js";
import { startMariadb, type TestMariadb } from "./mariadb-server.js";
import { startPostgres, type TestPostgres } from "./postgres-server.js";
import { freePort } from "./redis-server.js";
import { seedMariadbShop, seedPostgresShop, type Shop } from "./shop-data.js";

/**
 * One SQL kind's sources over a private server with the shop (test/support/shop-data.ts), as the
 * SQL source tests use them through the DataSources port: shop (the owner, 2 s, a pool of 5, 100
 * rows at most), reader (a role granted one table), tiny (2 KB at most), elsewhere (another
 * channel's), wrongpw, down (a closed port).
 */
export type Kind = "postgres" | "mysql";
export interface Server {
  /** Runs SQL as the server's administrator; rows as objects. */
  rows(sql: string): Promise<Array<Record<string, unknown>>>;
  stop(): Promise<void>;
}

export const CHANNEL = "local:-:cli";
export const caller: Caller = { channel: CHANNEL, user: "local:U1", thread: "local:-:cli:t1", requestId: "req-1" };

async function startServer(kind: Kind): Promise<{ server: Server; shop: Shop; port: number }> {
  if (kind === "postgres") {
    const pg: TestPostgres = await startPostgres();
    const shop = await seedPostgresShop(pg);
    return { server: { rows: async (sql) => (await pg.admin(sql, [], "shop")).rows, stop: () => pg.stop() }, shop, port: pg.port };
  }
  const my: TestMariadb = await startMariadb();
  const shop = await seedMariadbShop(my);
  await my.admin("use shop");
  return { server: { rows: async (sql) => (await my.admin(sql)) as Array<Record<string, unknown>>, stop: () => my.stop() }, shop, port: my.port };
}

export interface SqlFixture {
  server: Server;
  shop: Shop;
  sources: DataSources;
  logLines: string[];
  /** Runs a statement as the test's caller; the CSV it streamed, or the SourceError. */
  query(statement: string, options?: QueryOptions): Promise<QueryOutcome>;
}

export interface QueryOptions {
  source?: string;
  maxRows?: number;
  strict?: boolean;
  deadlineMs?: number;
  signal?: AbortSignal;
  who?: Caller;
  params?: Array<string | number | null>;
}

export type QueryOutcome = { result: QueryResult; csv: string; error?: undefined } | { error: SourceError; csv: string; result?: undefined };

export function useSqlSources(kind: Kind): SqlFixture {
  const fixture = { logLines: [] as string[] } as unknown as SqlFixture;
  let port: number;
  beforeAll(async () => {
    ({ server: fixture.server, shop: fixture.shop, port } = await startServer(kind));
    const { shop } = fixture;
    const closed = await freePort();
    const env = {
      OWNER_URL: shop.ownerUrl,
      READER_URL: shop.readerUrl,
      WRONG_URL: shop.wrongPasswordUrl,
      DOWN_URL: shop.ownerUrl.replace(`:${port}/`, `:${closed}/`),
    };
    const yaml = `
shop:
  kind: ${kind}
  url_env: OWNER_URL
  channels: ["local:*"]
  timeout_seconds: 2
  pool_size: 5
  max_rows: 100
reader:
  kind: ${kind}
  url_env: READER_URL
  channels: ["*"]
tiny:
  kind: ${kind}
  url_env: OWNER_URL
  channels: ["local:*"]
  max_bytes: 2048
elsewhere:
  kind: ${kind}
  url_env: OWNER_URL
  channels: ["slack:T9:C9"]
wrongpw:
  kind: ${kind}
  url_env: WRONG_URL
  channels: ["*"]
down:
  kind: ${kind}
  url_env: DOWN_URL
  channels: ["*"]
`;
    const log = pino({ level: "info" }, { write: (line: string) => fixture.logLines.push(line) });
    fixture.sources = new SourceRegistry(parseDataSources(yaml, env), { log, audit: new CallAudit(log, false) });
  });
  afterAll(async () => {
    await fixture.sources?.close();
    await fixture.server?.stop();
  });

  async function query(statement: string, options: QueryOptions = {}): Promise<QueryOutcome> {
    let csv = "";
    const sink = { write: async (chunk: Buffer) => void (csv += chunk.toString("utf8")) };
    try {
      const result = await fixture.sources.query(options.who ?? caller, { source: options.source ?? "shop", statement, params: options.params ?? [], maxRows: options.maxRows, strict: options.strict ?? false }, sink, {
        deadline: Date.now() + (options.deadlineMs ?? 30_000),
        signal: options.signal ?? new AbortController().signal,
      });
      return { result, csv };
    } catch (error) {
      if (!(error instanceof SourceError)) throw error;
      return { error, csv };
    }
  }

  fixture.query = query;
  return fixture;
}
