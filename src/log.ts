import { destination, pino, type Logger } from "pino";
import { SECRET_VARIABLES } from "./core/secret-variables.js";
import { lineScrubber, scrubValue } from "./log-redaction.js";

export type { Logger };

/** The values of the secret variables set in this environment: masked wherever they'd show in a line. */
export function secretValues(env: NodeJS.ProcessEnv = process.env): string[] {
  return SECRET_VARIABLES.map((name) => env[name]).filter((value): value is string => Boolean(value));
}

/**
 * Structured JSON logs on stderr (stdout belongs to the CLI's output). No credential reaches a
 * line (log-redaction.ts): secret-looking keys are redacted at any depth, errors are serialized
 * within bounds, and the secrets' values and token-shaped strings are masked in every line.
 */
export function createLogger(level: string, secrets: string[] = secretValues()): Logger {
  return pino(
    {
      level,
      base: { app: "codebot" },
      redact: { paths: [...SECRET_VARIABLES, "token", "apiKey", "*.token", "*.apiKey", "headers.authorization"], censor: "[redacted]" },
      formatters: { log: (object) => scrubValue(object) as Record<string, unknown> },
      // Errors are serialized (and scrubbed) by the formatter already: pino's own pass would retype them.
      serializers: { err: (value: unknown) => (value instanceof Error ? scrubValue(value) : value) },
      hooks: { streamWrite: lineScrubber(secrets) },
    },
    destination({ dest: 2, sync: true }),
  );
}
