import type { DatasourcesConfig } from "../config.js";
import { createDataSources } from "../datasources/create-data-sources.js";
import type { SourceCheck, TableInfo } from "../datasources/data-sources.js";
import { loadDataSources, type SourceConfig } from "../datasources/source-config.js";
import type { Logger } from "../log.js";
import { CliError } from "./cli-error.js";
import { SOURCES_USAGE } from "./usages.js";

export { SOURCES_USAGE };

/** How long `codebot sources` waits for one source. */
const CHECK_TIMEOUT_MS = 10_000;

const where = (source: SourceConfig) => (source.kind === "http" ? source.baseUrl.origin + source.baseUrl.pathname : `url from ${source.urlEnv}`);

function tablesText(tables: TableInfo[]): string {
  return tables.map((table) => `  ${table.name}(${table.columns.map((column) => `${column.name} ${column.type}`).join(", ")})`).join("\n");
}

/**
 * `codebot sources list`: each source of DATA_SOURCES_FILE, its channels and whether it answers now.
 * `codebot sources check NAME`: connects and reads its tables once, as the model's prompt would list them.
 */
export async function sourcesCommand(args: string[], config: DatasourcesConfig, log: Logger): Promise<number> {
  const [action, name, ...rest] = args;
  const json = rest.includes("--json") || name === "--json";
  if (!config.DATA_SOURCES_FILE) throw new CliError("No data sources are configured: set DATA_SOURCES_FILE to a YAML file of them (README, Data sources).");
  const configs = loadDataSources(config.DATA_SOURCES_FILE) ?? [];
  const sources = createDataSources(configs, { log, logContent: false })!;
  try {
    if (action === "list" && (name === undefined || name === "--json")) {
      const checks = await Promise.all(configs.map((source) => sources.check(source.name, CHECK_TIMEOUT_MS)));
      if (json) {
        process.stdout.write(`${JSON.stringify(configs.map((source, i) => ({ name: source.name, kind: source.kind, channels: source.channels, ok: checks[i]!.ok, ms: checks[i]!.ms, ...(checks[i]!.problem ? { problem: checks[i]!.problem } : {}) })), null, 2)}\n`);
      } else {
        for (const [i, source] of configs.entries()) {
          const check = checks[i]!;
          process.stdout.write(`${source.name} (${source.kind}, ${where(source)})\n  channels: ${source.channels.join(", ")}\n  ${check.ok ? `answers (${check.ms} ms)` : `DOES NOT ANSWER: ${check.problem}`}\n`);
        }
        if (!configs.length) process.stdout.write("DATA_SOURCES_FILE lists no source.\n");
      }
      return checks.every((check) => check.ok) ? 0 : 1;
    }
    if (action === "check" && name && name !== "--json") {
      if (!configs.some((source) => source.name === name)) throw new CliError(`No data source "${name}" in DATA_SOURCES_FILE (${configs.map((source) => source.name).join(", ") || "none"}).`);
      const check: SourceCheck = await sources.check(name, CHECK_TIMEOUT_MS);
      if (json) process.stdout.write(`${JSON.stringify(check, null, 2)}\n`);
      else if (!check.ok) process.stdout.write(`${name} does not answer: ${check.problem}\n`);
      else if (check.tables) process.stdout.write(`${name} answers (${check.ms} ms); its role can read ${check.tables.length} table${check.tables.length === 1 ? "" : "s"}:\n${tablesText(check.tables)}\n`);
      else process.stdout.write(`${name} answers (${check.ms} ms).\n`);
      return check.ok ? 0 : 1;
    }
    throw new CliError(`Usage: ${SOURCES_USAGE}`);
  } finally {
    await sources.close();
  }
}
