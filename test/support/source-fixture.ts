import { pino } from "pino";
import { afterAll, beforeAll } from "vitest";
import { CallAudit } from "../../src/datasources/call-audit.js";
import { parseDataSources } from "../../src/datasources/source-config.js";
import { SourceRegistry } from "../../src/datasources/source-registry.js";
import { startMariadb, type TestMariadb } from "./mariadb-server.js";
import { startPostgres, type TestPostgres } from "./postgres-server.js";
import { freePort } from "./redis-server.js";
import { seedMariadbShop, seedPostgresShop } from "./shop-data.js";
import { startHttpApi, type HttpApiStandIn } from "./stand-ins/http-api-stand-in.js";

export const API_TOKEN = "Bearer api-t0ken-93e1c7";

/** The sources the sandbox tests call: the shop on PostgreSQL and MariaDB, an HTTP API, one down, one of another channel. */
const SOURCES = (api: HttpApiStandIn) => `
shop:
  kind: postgres
  url_env: PG_URL
  description: Orders of the shop
  channels: ["local:*"]
  timeout_seconds: 3
  max_rows: 100000
few:
  kind: postgres
  url_env: PG_URL
  channels: ["local:*"]
  max_rows: 100
myshop:
  kind: mysql
  url_env: MY_URL
  channels: ["local:*"]
stats:
  kind: http
  base_url: ${api.baseUrl}
  headers_env: {Authorization: API_AUTH}
  channels: ["local:*"]
down:
  kind: postgres
  url_env: DOWN_URL
  channels: ["local:*"]
hidden:
  kind: postgres
  url_env: PG_URL
  description: another team's
  channels: ["slack:T9:*"]
`;

export interface SourceServers {
  pg: TestPostgres;
  my: TestMariadb;
  api: HttpApiStandIn;
  sources: SourceRegistry;
  /** Every password and token, for the tests that look for them where they must not be. */
  secrets: string[];
  logLines: string[];
  /** Sessions of codebot's running a query like this one in PostgreSQL now. */
  pgActive(like: string): Promise<number>;
}

/** A private PostgreSQL, MariaDB and HTTP API with the shop, and the data sources over them, for a test file. */
export function useSourceServers(): SourceServers {
  const servers = { logLines: [] as string[] } as unknown as SourceServers;
  beforeAll(async () => {
    const [pg, my, api] = await Promise.all([startPostgres(), startMariadb(), startHttpApi()]);
    Object.assign(servers, { pg, my, api });
    const [pgShop, myShop] = await Promise.all([seedPostgresShop(pg), seedMariadbShop(my)]);
    servers.secrets = [...new Set([...pgShop.secrets, ...myShop.secrets, API_TOKEN.split(" ")[1]!, pg.adminUrl.split(":")[2]!.split("@")[0]!])];
    const closed = await freePort();
    const env = { PG_URL: pgShop.ownerUrl, MY_URL: myShop.ownerUrl, API_AUTH: API_TOKEN, DOWN_URL: pgShop.ownerUrl.replace(`:${pg.port}/`, `:${closed}/`) };
    const log = pino({ level: "info" }, { write: (line: string) => servers.logLines.push(line) });
    servers.sources = new SourceRegistry(parseDataSources(SOURCES(api), env), { log, audit: new CallAudit(log, false) });
    servers.pgActive = async (like) => Number((await pg.admin(`select count(*)::int as n from pg_stat_activity where state = 'active' and pid <> pg_backend_pid() and query like '${like}'`, [], "shop")).rows[0]?.n);
  });
  afterAll(async () => {
    await servers.sources?.close();
    await Promise.all([servers.pg?.stop(), servers.my?.stop(), servers.api?.close()]);
  });
  return servers;
}
