import { readFileSync } from "node:fs";
import { join } from "node:path";
import Docker from "dockerode";

/** Where an engine is: unix:///path, tcp://host:port or ssh://user@host, and for tcp:// a folder with ca.pem, cert.pem and key.pem. */
export interface EngineAddress {
  address: string;
  tlsDir?: string;
}

/**
 * A Docker client for one engine of a fleet (SANDBOX_HOSTS, checked by src/core/host-spec.ts),
 * through its own base address and TLS files (a tcp:// host without them only with insecure=true);
 * none given: the engine of DOCKER_HOST, or the local socket.
 */
export function dockerFor(host?: EngineAddress): Docker {
  if (!host) return new Docker();
  const url = new URL(host.address);
  if (url.protocol === "unix:") return new Docker({ socketPath: url.pathname });
  if (url.protocol === "ssh:") {
    return new Docker({ protocol: "ssh", host: url.hostname, port: Number(url.port || 22), username: decodeURIComponent(url.username) || undefined, sshOptions: { agent: process.env.SSH_AUTH_SOCK } } as Docker.DockerOptions);
  }
  const tls = host.tlsDir ? { ca: readFileSync(join(host.tlsDir, "ca.pem")), cert: readFileSync(join(host.tlsDir, "cert.pem")), key: readFileSync(join(host.tlsDir, "key.pem")) } : {};
  return new Docker({ protocol: host.tlsDir ? "https" : "http", host: url.hostname, port: Number(url.port || (host.tlsDir ? 2376 : 2375)), ...tls });
}
