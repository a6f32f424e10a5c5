import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A self-signed serving certificate for 127.0.0.1 (an EC key, a day long), made with the openssl
 * command line: the stand-in serves HTTPS as kube-apiserver does, and its kubeconfig names this
 * certificate as the cluster's certificate-authority-data, so the client verifies it (it refuses
 * plain HTTP unless told to skip TLS verification).
 */
export function servingCertificate(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), "k8s-stand-in-"));
  try {
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=kube-apiserver-stand-in", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")], { stdio: "ignore" });
    return { key: readFileSync(join(dir, "key.pem"), "utf8"), cert: readFileSync(join(dir, "cert.pem"), "utf8") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
