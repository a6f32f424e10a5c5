import { readFileSync } from "node:fs";
import { join } from "node:path";
import Docker from "dockerode";

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
}

export class HostSpecError extends Error {
  readonly code = "HOSTS_INVALID";
}


/**
 * SANDBOX_HOSTS: engines separated by commas, each `[name=]address[?weight=N&max=N&tls=DIR]`, e.g.
 * `local=unix:///var/run/docker.sock, gpu=tcp://10.0.0.7:2376?tls=/etc/codebot/gpu&weight=2`.
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
      for (const key of params.keys()) if (!["weight", "max", "tls"].includes(key)) throw new HostSpecError(`"${entry}": unknown option ${key} (weight, max, tls)`);
      const name = named ? named[1]! : address;
      return { name, address, weight: number("weight") ?? 1, maxSessions: number("max"), tlsDir: params.get("tls") ?? undefined };
    });
  const names = new Set<string>();
  for (const host of hosts) {
    if (names.has(host.name) || names.has(host.address)) throw new HostSpecError(`"${host.name}" is listed twice`);
    names.add(host.name).add(host.address);
  }
  return hosts;
}

/** A Docker client for the host, through its own base address and TLS files. */
export function dockerFor(host: HostSpec): Docker {
  const url = new URL(host.address);
  if (url.protocol === "unix:") return new Docker({ socketPath: url.pathname });
  if (url.protocol === "ssh:") {
    return new Docker({ protocol: "ssh", host: url.hostname, port: Number(url.port || 22), username: decodeURIComponent(url.username) || undefined, sshOptions: { agent: process.env.SSH_AUTH_SOCK } } as Docker.DockerOptions);
  }
  const tls = host.tlsDir ? { ca: readFileSync(join(host.tlsDir, "ca.pem")), cert: readFileSync(join(host.tlsDir, "cert.pem")), key: readFileSync(join(host.tlsDir, "key.pem")) } : {};
  return new Docker({ protocol: host.tlsDir ? "https" : "http", host: url.hostname, port: Number(url.port || (host.tlsDir ? 2376 : 2375)), ...tls });
}

/** A form of the host's name fit for Redis keys and container labels. */
export function hostKey(host: Pick<HostSpec, "name">): string {
  return host.name.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 80);
}
