import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

/** The repository's root. */
export const REPO = fileURLToPath(new URL("../../", import.meta.url));
export const MANIFESTS = join(REPO, "deploy/kubernetes");

/** A Kubernetes object as rendered (plain JSON). */
export type KubeObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> }; [key: string]: any };

export interface Rendered {
  overlay: string;
  objects: KubeObject[];
  /** What kubectl printed besides the manifests (deprecation warnings of newer kustomize versions). */
  warnings: string;
}

/**
 * The kubectl the tests render with: KUBECTL when set (e.g. Debian's 1.20 unpacked somewhere), else
 * the one on PATH. Missing, it throws saying how to get one: the manifests' check must never be
 * skipped for want of a tool.
 */
export function kubectl(): string {
  const wanted = process.env.KUBECTL ?? "kubectl";
  const probe = spawnSync(wanted, ["version", "--client"], { encoding: "utf8" });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      `kubectl is not installed (or ${wanted} does not run): the Kubernetes manifests can't be rendered. ` +
        "Install Debian's kubectl (apt-get install kubernetes-client; .ci/run does) or point KUBECTL at one.",
    );
  }
  return wanted;
}

/**
 * Fenced blocks of docs/kubernetes.md whose first line is `# file: overlays/<name>/<file>`: the
 * overlays the document tells operators to write (external Redis, GKE), rendered and checked with
 * the shipped ones so the document can't drift from what works.
 */
export function documentedFiles(markdown = readFileSync(join(REPO, "docs/kubernetes.md"), "utf8")): Map<string, string> {
  const files = new Map<string, string>();
  for (const match of markdown.matchAll(/^```ya?ml\n# file: (\S+)\n([\s\S]*?)^```$/gm)) files.set(match[1]!, match[2]!);
  return files;
}

/**
 * A copy of deploy/kubernetes with secret.env made from secret.example.env (as an operator does
 * first) and the documented overlays written into it; removed by the returned function.
 */
export function manifestsCopy(): { root: string; overlays: string[]; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "codebot-k8s-"));
  const root = join(dir, "kubernetes");
  cpSync(MANIFESTS, root, { recursive: true });
  if (existsSync(join(root, "base/secret.env"))) throw new Error("deploy/kubernetes/base/secret.env exists in the repository: it holds secrets and must never be committed");
  cpSync(join(root, "base/secret.example.env"), join(root, "base/secret.env"));
  for (const [path, text] of documentedFiles()) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  const overlays = readdirSync(join(root, "overlays")).sort();
  return { root, overlays, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** `kubectl kustomize` of one overlay of a copy, parsed into objects. */
export function render(root: string, overlay: string, command = kubectl()): Rendered {
  const run = spawnSync(command, ["kustomize", join(root, "overlays", overlay)], { encoding: "utf8", maxBuffer: 16 << 20 });
  if (run.error) throw run.error;
  if (run.status !== 0) throw new Error(`kubectl kustomize overlays/${overlay} failed (${run.status}):\n${run.stderr}`);
  const objects = parseAllDocuments(run.stdout)
    .map((document) => {
      if (document.errors.length) throw new Error(`overlays/${overlay} rendered invalid YAML: ${document.errors[0]!.message}`);
      return document.toJS() as KubeObject | null;
    })
    .filter((object): object is KubeObject => object !== null);
  return { overlay, objects, warnings: run.stderr };
}

/** KEY=value lines of an env file (comments and blank lines skipped), as kustomize reads them. */
export function envFile(text: string): Record<string, string> {
  const entries: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const trimmed = line.trim();
    if (!trimmed || trimmed.startsWith("#")) continue;
    const equals = trimmed.indexOf("=");
    entries[trimmed.slice(0, equals)] = trimmed.slice(equals + 1);
  }
  return entries;
}

export const find = (objects: KubeObject[], kind: string, name: string, namespace?: string): KubeObject => {
  const found = objects.filter((object) => object.kind === kind && object.metadata.name === name && (namespace === undefined || object.metadata.namespace === namespace));
  if (found.length !== 1) throw new Error(`expected one ${kind} ${namespace ?? "*"}/${name}, found ${found.length}`);
  return found[0]!;
};

/** The generated object (ConfigMap, Secret) whose name is `name-<hash>`. */
export const generated = (objects: KubeObject[], kind: string, name: string): KubeObject => {
  const found = objects.filter((object) => object.kind === kind && new RegExp(`^${name}-[a-z0-9]{10}$`).test(object.metadata.name));
  if (found.length !== 1) throw new Error(`expected one generated ${kind} ${name}-<hash>, found ${found.length}`);
  return found[0]!;
};
