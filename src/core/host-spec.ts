/** One Docker engine of the fleet, as SANDBOX_HOSTS names it. */
export interface HostSpec {
  /** What admins call it: the short name given as name=address, else the address as written. */
  name: string;
  /** unix:///var/run/docker.sock, tcp://host:2376, ssh://user@host */
  address: string;
  /** Relative share of new sessions (default 1). */
  weight: number;
  /** Sessions at most on this host (default SANDBOX_MAX_SESSIONS). */
  maxSessions?: number;
  /** A folder with ca.pem, cert.pem and key.pem: TLS to a tcp:// engine. */
  tlsDir?: string;
  /** A tcp:// engine reached without TLS, on purpose (`insecure=true`): warned about at every start. */
  insecure?: boolean;
}

export class HostSpecError extends Error {
  readonly code = "HOSTS_INVALID";
}

const OPTIONS = ["weight", "max", "tls", "insecure"];

/**
 * SANDBOX_HOSTS: engines separated by commas, each `[name=]address[?weight=N&max=N&tls=DIR]`, e.g.
 * `local=unix:///var/run/docker.sock, gpu=tcp://10.0.0.7:2376?tls=/etc/codebot/gpu&weight=2`.
 * A tcp:// engine needs TLS (tls=DIR): whoever reaches or watches a plain one runs containers as
 * root on its machine. `insecure=true` accepts one without TLS on purpose (a private link, a test).
 */
export function parseHosts(value: string): HostSpec[] {
  const hosts = value
    .split(/[,\s]+/)
    .filter(Boolean)
    .map((entry) => {
      const named = /^([A-Za-z0-9][A-Za-z0-9._-]{0,39})=(.+)$/.exec(entry);
      const written = named ? named[2]! : entry;
      const [address, query = ""] = written.split("?", 2) as [string, string?];
      let url: URL;
      try {
        url = new URL(address);
      } catch {
        throw new HostSpecError(`"${entry}" is not an engine address (unix:///path, tcp://host:port or ssh://user@host)`);
      }
      if (!["unix:", "tcp:", "ssh:"].includes(url.protocol)) throw new HostSpecError(`"${entry}": the address must start with unix://, tcp:// or ssh://`);
      const params = new URLSearchParams(query);
      const number = (key: string) => {
        const raw = params.get(key);
        if (raw === null) return undefined;
        const parsed = Number(raw);
        if (!Number.isInteger(parsed) || parsed < 1 || parsed > 100_000) throw new HostSpecError(`"${entry}": ${key} must be a whole number from 1`);
        return parsed;
      };
      for (const key of params.keys()) if (!OPTIONS.includes(key)) throw new HostSpecError(`"${entry}": unknown option ${key} (${OPTIONS.join(", ")})`);
      const tlsDir = params.get("tls") ?? undefined;
      const insecure = insecureOption(entry, params.get("insecure"), url.protocol, tlsDir);
      const name = named ? named[1]! : address;
      return { name, address, weight: number("weight") ?? 1, maxSessions: number("max"), tlsDir, ...(insecure ? { insecure } : {}) };
    });
  const names = new Set<string>();
  for (const host of hosts) {
    if (names.has(host.name) || names.has(host.address)) throw new HostSpecError(`"${host.name}" is listed twice`);
    names.add(host.name).add(host.address);
  }
  return hosts;
}

/** insecure=true, checked: only a tcp:// engine without TLS may be reached in the clear, and only when said so. */
function insecureOption(entry: string, raw: string | null, protocol: string, tlsDir: string | undefined): boolean {
  if (raw !== null && raw !== "true") throw new HostSpecError(`"${entry}": insecure can only be true (to reach a tcp:// engine without TLS on purpose)`);
  const insecure = raw === "true";
  if (insecure && (protocol !== "tcp:" || tlsDir)) throw new HostSpecError(`"${entry}": insecure=true is only for a tcp:// engine without tls=DIR`);
  if (protocol === "tcp:" && !tlsDir && !insecure) {
    throw new HostSpecError(
      `"${entry}" is tcp:// without TLS, so whoever reaches or watches that address controls the engine: add ?tls=DIR (ca.pem, cert.pem, key.pem), use ssh:// or unix://, or add ?insecure=true to accept it on purpose`,
    );
  }
  return insecure;
}

/** What to warn about at every start: the hosts reached without TLS on purpose. */
export function insecureHostWarning(hosts: HostSpec[]): string | undefined {
  const insecure = hosts.filter((host) => host.insecure);
  if (!insecure.length) return undefined;
  return `SANDBOX_HOSTS: ${insecure.map((host) => host.name).join(", ")} ${insecure.length === 1 ? "is" : "are"} reached over tcp:// without TLS (insecure=true): whoever can reach or watch ${insecure.length === 1 ? "that address" : "those addresses"} controls ${insecure.length === 1 ? "its" : "their"} engine and every sandbox on it`;
}

/** A form of the host's name fit for Redis keys and container labels. */
export function hostKey(host: Pick<HostSpec, "name">): string {
  return host.name.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 80);
}
