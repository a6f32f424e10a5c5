/**
 * The layers of src/, top down, as docs/architecture.md explains them. A module may import its
 * own folder and any layer below its own; never a layer above, never a sibling folder of its own
 * layer, never test/. No cycles, between files or between folders. Run by `npm test` (before
 * vitest) and `npm run lint:layers`.
 *
 * Violations known when this was written (they belong to work under way on other branches) are
 * listed in .dependency-cruiser-known-violations.json and reported as warnings; any other fails.
 */
const fs = require("node:fs");
const path = require("node:path");

const LAYERS = [
  { name: "app", paths: ["src/(app/|index\\.ts$)"] },
  { name: "cli", paths: ["src/cli/"] },
  { name: "platforms", paths: ["src/platforms/"] },
  // The bot's fronts: the intake the platforms feed, and the admin page.
  { name: "fronts", paths: ["src/bot/", "src/admin/"] },
  { name: "queue", paths: ["src/queue/"] },
  { name: "agent", paths: ["src/agent/"] },
  // Subsystems the agent uses, each on its own: none imports another.
  { name: "subsystems", paths: ["src/budget/", "src/feedback/", "src/export/", "src/ops/", "src/datasources/", "src/schedules/"] },
  { name: "stores", paths: ["src/workspace/", "src/fleet/"] },
  { name: "sandbox", paths: ["src/sandbox/"] },
  { name: "ground", paths: ["src/redis/", "src/config/", "src/config\\.ts$"] },
  { name: "log", paths: ["src/log(-redaction)?\\.ts$"] },
  { name: "core", paths: ["src/core/"] },
];

const anyOf = (paths) => `^(${paths.join("|")})`;

/** A module of layer i imports one of a layer above it. */
const upward = LAYERS.slice(1).map((layer, i) => ({
  name: `layer-${layer.name}-imports-upward`,
  comment: `${layer.name} sits below ${LAYERS.slice(0, i + 1).map((above) => above.name).join(", ")}: it may not import them (docs/architecture.md).`,
  severity: "error",
  from: { path: anyOf(layer.paths) },
  to: { path: anyOf(LAYERS.slice(0, i + 1).flatMap((above) => above.paths)) },
}));

/** Folders of one layer stand side by side: none imports another (the layer below is shared instead). */
const siblings = LAYERS.filter((layer) => layer.paths.length > 1).map((layer) => {
  const folders = layer.paths.map((path) => path.replace(/\/$/, "").replace(/\\\.ts\$$/, ""));
  return {
    name: `layer-${layer.name}-sibling-import`,
    comment: `${folders.join(", ")} are one layer: none of them imports another.`,
    severity: "error",
    from: { path: `^(${folders.join("|")})(/|\\.ts$)` },
    to: { path: `^(${folders.join("|")})(/|\\.ts$)`, pathNot: "^$1(/|\\.ts$)" },
  };
});

/**
 * No circular imports between folders. dependency-cruiser's --ignore-known softens module
 * violations only, not folder ones: under --ignore-known, a folder cycle listed as known (by its
 * first hop from one folder to another) is left out here by that pair, and only while the
 * known-violations file lists it; any other cycle, from those folders too, fails.
 */
function folderCycleRules() {
  const file = path.join(__dirname, ".dependency-cruiser-known-violations.json");
  // Strict unless known violations are being ignored (so depcruise-baseline still sees them all).
  const ignoringKnown = process.argv.includes("--ignore-known");
  const known = ignoringKnown && fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8")) : [];
  const hops = new Map();
  for (const violation of known) {
    if (violation.type !== "cycle" || violation.rule?.name !== "no-folder-cycles") continue;
    hops.set(violation.from, [...(hops.get(violation.from) ?? []), violation.to]);
  }
  const exactly = (names) => `^(${names.map((name) => name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|")})$`;
  const rule = (from, to) => ({ name: "no-folder-cycles", comment: "No circular imports between folders.", severity: "error", scope: "folder", from, to: { circular: true, ...to } });
  if (!hops.size) return [rule({}, {})];
  return [rule({ pathNot: exactly([...hops.keys()]) }, {}), ...[...hops].map(([from, to]) => rule({ path: exactly([from]) }, { pathNot: exactly(to) }))];
}

module.exports = {
  forbidden: [
    ...upward,
    ...siblings,
    {
      name: "platforms-stand-alone",
      comment: "A platform's folder imports no other platform's: what they share lives in src/platforms/ itself or below.",
      severity: "error",
      from: { path: "^src/platforms/([^/]+)/" },
      to: { path: "^src/platforms/[^/]+/", pathNot: "^src/platforms/$1/" },
    },
    {
      name: "kubernetes-types-stay-in-their-backend",
      comment: "The Kubernetes client (and every type of it) is the Kubernetes backend's own: nothing outside src/sandbox/kubernetes/ names it.",
      severity: "error",
      from: { path: "^src/", pathNot: "^src/sandbox/kubernetes/" },
      to: { path: "@kubernetes/client-node" },
    },
    {
      name: "no-file-cycles",
      comment: "No circular imports between files.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    ...folderCycleRules(),
    {
      name: "src-never-imports-tests",
      comment: "Code that ships never imports test/ (its helpers and stand-ins are the tests' own).",
      severity: "error",
      from: { path: "^src/" },
      to: { path: "^test/" },
    },
    {
      name: "bench-imports-only-test-support",
      comment: "Benchmarks reuse the tests' shared stand-ins and helpers, in test/support/, and nothing else of test/ (its tests and their own modules).",
      severity: "error",
      from: { path: "^bench/" },
      to: { path: "^test/", pathNot: "^test/support/" },
    },
    {
      name: "not-to-unresolvable",
      comment: "An import that resolves to nothing (a moved file) fails here before it fails at run time. Packages of types alone (mdast, from @types/mdast) have no module to resolve.",
      severity: "error",
      from: {},
      to: { couldNotResolve: true, pathNot: "^mdast$" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    // Type-only imports count: a layer that names a higher layer's type depends on it all the same.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default", "types"], extensions: [".ts", ".js"] },
  },
};
