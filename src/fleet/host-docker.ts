import { readFileSync } from "node:fs";
import { join } from "node:path";
import Docker from "dockerode";
import type { HostSpec } from "../core/host-spec.js";

/** A Docker client for the host, through its own base address and TLS files (a tcp:// host without them only with insecure=true). */
export function dockerFor(host: HostSpec): Docker {
  const url = new URL(host.address);
  if (url.protocol === "unix:") return new Docker({ socketPath: url.pathname });
  if (url.protocol === "ssh:") {
    return new Docker({ protocol: "ssh", host: url.hostname, port: Number(url.port || 22), username: decodeURIComponent(url.username) || undefined, sshOptions: { agent: process.env.SSH_AUTH_SOCK } } as Docker.DockerOptions);
  }
  const tls = host.tlsDir ? { ca: readFileSync(join(host.tlsDir, "ca.pem")), cert: readFileSync(join(host.tlsDir, "cert.pem")), key: readFileSync(join(host.tlsDir, "key.pem")) } : {};
  return new Docker({ protocol: host.tlsDir ? "https" : "http", host: url.hostname, port: Number(url.port || (host.tlsDir ? 2376 : 2375)), ...tls });
}
