/**
 * Each command's usage, apart from its code: `codebot COMMAND --help` and `codebot --help` print
 * them without loading the command (nor the libraries it needs).
 */
export const ASK_USAGE = 'codebot ask [--thread ID] [--attach PATH]... [--out DIR] [--wait SECONDS] "message" | -';
export const CHAT_USAGE = "codebot chat [--thread ID] [--out DIR]   (then: a message, /attach PATH, /files, /export [zip], /reset, schedule WHEN: REQUEST, schedules, unschedule ID, resume ID, /quit)";
export const DISCORD_USAGE = "codebot discord register";
export const EXEC_USAGE = "codebot exec [--session ID] [--attach PATH]... [--timeout SECONDS] [--json] [FILE | -]";
export const EXPORT_USAGE = "codebot export --thread ID [--out DIR] [--zip] [--wait SECONDS]";
export const HOSTS_USAGE = "codebot hosts list [--json] | codebot hosts drain HOST | codebot hosts undrain HOST";
export const SESSIONS_USAGE =
  "codebot sessions list [--json] | codebot sessions hibernate ID | codebot sessions kill ID | codebot sessions kill --all | codebot sessions prune";
export const SCHEDULES_USAGE = "codebot schedules list [--json] | codebot schedules remove ID";
export const SOURCES_USAGE = "codebot sources list [--json] | codebot sources check NAME [--json]";
export const USAGE_USAGE = "codebot usage [users | threads | feedback | budgets] [--json]";
