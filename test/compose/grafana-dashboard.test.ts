import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { loadConfig } from "../../src/config.js";
import { botMetrics, workerMetrics } from "../../src/ops/metrics.js";
import { environmentOf, portsOf, read, readYaml, REPO, resolvedCompose, volumesOf } from "./compose-files.js";

const DASHBOARD_DIR = "deploy/grafana/dashboards";
const dashboard = JSON.parse(read(`${DASHBOARD_DIR}/codebot.json`));
const datasources = readYaml("deploy/grafana/provisioning/datasources/prometheus.yml").datasources;
const prometheus = readYaml("deploy/prometheus/prometheus.yml");

/** Every metric the bot and the worker export (Node's default ones too), with their types. */
async function exportedMetrics(): Promise<Map<string, string>> {
  const metrics = new Map<string, string>();
  for (const registry of [botMetrics().registry, workerMetrics().registry]) {
    for (const metric of await registry.getMetricsAsJSON()) metrics.set(metric.name, String(metric.type));
  }
  return metrics;
}

/** The series names a metric answers to: a histogram's _bucket, _sum and _count; a summary's _sum and _count. */
function seriesNames(metrics: Map<string, string>): Set<string> {
  const names = new Set<string>(["up"]); // Prometheus' own, per target
  for (const [name, type] of metrics) {
    names.add(name);
    if (type === "histogram") for (const suffix of ["_bucket", "_sum", "_count"]) names.add(name + suffix);
    if (type === "summary") for (const suffix of ["_sum", "_count"]) names.add(name + suffix);
  }
  return names;
}

const KEYWORDS = new Set(["by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset", "inf", "nan"]);

/** The metric names a PromQL expression selects: identifiers that are neither functions, keywords, labels nor strings. */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, "")
    .replace(/\{[^}]*\}/g, "")
    .replace(/\[[^\]]*\]/g, "")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, "");
  return [...bare.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)]
    .filter((match) => !/^\s*\(/.test(bare.slice(match.index + match[0].length))) // a function or an aggregation
    .map((match) => match[0])
    .filter((name) => !KEYWORDS.has(name.toLowerCase()));
}

const panels: any[] = dashboard.panels.flatMap((panel: any) => [panel, ...(panel.panels ?? [])]);
const graphs = panels.filter((panel) => panel.type !== "row");
const exprs: string[] = graphs.flatMap((panel) => panel.targets.map((target: any) => target.expr));

describe("the Grafana dashboard (deploy/grafana/dashboards/codebot.json)", () => {
  test("is a dashboard Grafana provisions: schema, uid, unique panel ids, panels on the 24-column grid", () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(39);
    expect(dashboard.uid).toMatch(/^[A-Za-z0-9_-]{1,40}$/);
    expect(dashboard.title).toBe("codebot");
    const ids = panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of panels) {
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24);
      expect(panel.gridPos.h, panel.title).toBeGreaterThan(0);
      expect(panel.title, `panel ${panel.id}`).toBeTruthy();
    }
    expect(graphs.length).toBeGreaterThanOrEqual(15);
  });

  test("every panel queries the provisioned Prometheus data source, by uid", () => {
    expect(datasources).toHaveLength(1);
    const uid = datasources[0].uid;
    for (const panel of graphs) {
      expect(panel.datasource, panel.title).toEqual({ type: "prometheus", uid });
      expect(panel.targets.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets) {
        expect(target.datasource, panel.title).toEqual({ type: "prometheus", uid });
        expect(target.expr, panel.title).toBeTruthy();
      }
    }
  });

  test("every metric codebot exports (src/ops/metrics.ts) is on a panel", async () => {
    const exported = [...(await exportedMetrics()).keys()].filter((name) => name.startsWith("codebot_"));
    expect(exported.length).toBeGreaterThanOrEqual(14);
    const used = new Set(exprs.flatMap(metricNames).flatMap((name) => [name, name.replace(/_(bucket|sum|count)$/, "")]));
    const missing = exported.filter((name) => !used.has(name));
    expect(missing, "add a panel for them").toEqual([]);
  });

  test("every query selects only metrics that exist (codebot's, Node's default ones, `up`)", async () => {
    const known = seriesNames(await exportedMetrics());
    for (const expr of exprs) {
      const names = metricNames(expr);
      expect(names.length, expr).toBeGreaterThan(0);
      for (const name of names) expect(known.has(name), `${name} in ${expr}`).toBe(true);
    }
    // The role label every series carries, and the jobs Prometheus gives them.
    const jobs = prometheus.scrape_configs.map((job: any) => job.job_name);
    for (const expr of exprs) for (const [, pattern] of expr.matchAll(/job=~"([^"]+)"/g)) expect(jobs.some((job: string) => new RegExp(`^(?:${pattern})$`).test(job)), expr).toBe(true);
  });

  test("the metric names the parser finds", () => {
    expect(metricNames(`histogram_quantile(0.95, sum by (le) (rate(codebot_turn_duration_seconds_bucket{outcome="answered"}[$__rate_interval])))`)).toEqual(["codebot_turn_duration_seconds_bucket"]);
    expect(metricNames(`sum by (host) (rate(a_total{result="hit"}[5m])) / sum by (host) (rate(a_total[5m]))`)).toEqual(["a_total", "a_total"]);
    expect(metricNames(`max(codebot_queue_jobs{state="waiting"})`)).toEqual(["codebot_queue_jobs"]);
  });
});

describe("Prometheus and Grafana under the metrics profile", () => {
  const config = resolvedCompose({ profiles: ["metrics"] });
  const { services } = config;

  test("Prometheus scrapes the worker on METRICS_PORT and the bot on BOT_METRICS_PORT (never its public PORT), by compose service name", () => {
    const targets = new Map<string, string[]>();
    for (const job of prometheus.scrape_configs) {
      expect(job.metrics_path ?? "/metrics", job.job_name).toBe("/metrics");
      const found = [
        ...(job.static_configs ?? []).flatMap((group: any) => group.targets),
        ...(job.dns_sd_configs ?? []).flatMap((sd: any) => {
          expect(sd.type, job.job_name).toBe("A");
          return sd.names.map((name: string) => `${name}:${sd.port}`);
        }),
      ];
      targets.set(job.job_name, found);
      for (const target of found) expect(Object.keys(services), `${job.job_name}: ${target}`).toContain(target.split(":")[0]);
    }
    expect(targets.get("codebot-worker")).toEqual([`worker:${loadConfig({}).METRICS_PORT}`]);
    const botPort = String(loadConfig({}).BOT_METRICS_PORT);
    expect(targets.get("codebot-bot")).toEqual([`bot:${botPort}`]);
    expect(botPort).not.toBe(environmentOf(services.bot).PORT);
    // Reached on the compose network: neither ops port is published on the host.
    for (const name of ["bot", "worker"]) expect(portsOf(services[name]).map((port) => port.target), name).not.toContain(botPort);
  });

  test("compose mounts Prometheus' config where it reads it, and Grafana's provisioning and dashboards where they point", () => {
    const configFlag = /--config\.file=(\S+)/.exec(services.prometheus.entrypoint.join(" "))?.[1];
    const promMount = volumesOf(services.prometheus).find((volume) => volume.target === configFlag);
    expect(promMount?.source).toBe(join(REPO, "deploy/prometheus/prometheus.yml"));

    const grafanaMounts = volumesOf(services.grafana);
    expect(grafanaMounts.find((volume) => volume.target === "/etc/grafana/provisioning")?.source).toBe(join(REPO, "deploy/grafana/provisioning"));
    const dashboards = grafanaMounts.find((volume) => volume.source === join(REPO, DASHBOARD_DIR));
    const providers = readYaml("deploy/grafana/provisioning/dashboards/codebot.yml").providers;
    expect(providers.map((provider: any) => provider.options.path)).toEqual([dashboards?.target]);
    const home = environmentOf(services.grafana).GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH!;
    expect(home.startsWith(`${dashboards?.target}/`)).toBe(true);
    expect(existsSync(join(REPO, DASHBOARD_DIR, home.slice(dashboards!.target.length + 1)))).toBe(true);
    expect(readdirSync(join(REPO, DASHBOARD_DIR))).toEqual(["codebot.json"]);

    // The data source is the compose service, on the port Prometheus listens on.
    const url = new URL(datasources[0].url);
    expect(url.hostname).toBe("prometheus");
    expect(portsOf(services.prometheus).map((port) => port.target)).toContain(url.port);
  });

  test("Grafana's admin password comes from GRAFANA_ADMIN_PASSWORD, with no default; viewers log in unless GRAFANA_ANONYMOUS=true", () => {
    expect(environmentOf(resolvedCompose({ profiles: ["metrics"], env: { GRAFANA_ADMIN_PASSWORD: "s3cret-pass-long" } }).services.grafana).GF_SECURITY_ADMIN_PASSWORD).toBe("s3cret-pass-long");
    expect(environmentOf(services.grafana)).toMatchObject({ GF_SECURITY_ADMIN_PASSWORD: "", GF_AUTH_ANONYMOUS_ENABLED: "false" });
    expect(read("docker-compose.yml")).not.toMatch(/GRAFANA_ADMIN_PASSWORD:-[^}]/);
  });

  test("the images are pinned to versions", () => {
    for (const name of ["prometheus", "grafana"]) expect(services[name].image, name).toMatch(/:v?\d+\.\d+\.\d+$/);
  });
});
