// deploy/kubernetes validated offline: every document against the Kubernetes schema
// (kubernetes-models), and every memserve flag, environment variable, port and path it uses
// checked against the CLI (`memserve --help`) and the Dockerfile, so the manifests cannot drift.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Deployment } from "kubernetes-models/apps/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { ConfigMap, Service } from "kubernetes-models/v1";
import { USAGE } from "../src/cli/usage.ts";
import { parseHeaders } from "../src/rules/headers-file.ts";
import { parseRedirects } from "../src/rules/redirects.ts";

const DIR = join(import.meta.dir, "..", "deploy", "kubernetes");
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  "apps/v1 Deployment": Deployment,
  "v1 Service": Service,
  "v1 ConfigMap": ConfigMap,
  "policy/v1 PodDisruptionBudget": PodDisruptionBudget,
  "autoscaling/v2 HorizontalPodAutoscaler": HorizontalPodAutoscaler,
};

// biome-ignore lint/suspicious/noExplicitAny: manifests are checked field by field below
type Doc = Record<string, any>;
const docs: Doc[] = readdirSync(DIR)
  .filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml")
  .flatMap((f) => [Bun.YAML.parse(readFileSync(join(DIR, f), "utf8"))].flat() as Doc[]);
const find = (kind: string) => docs.find((d) => d.kind === kind) as Doc;
const deployment = find("Deployment");
const container = deployment.spec.template.spec.containers[0];
const dockerfile = readFileSync(join(import.meta.dir, "..", "Dockerfile"), "utf8");

describe("deploy/kubernetes", () => {
  test("every document is valid against its Kubernetes schema", () => {
    expect(docs.map((d) => d.kind).sort()).toEqual([
      "ConfigMap",
      "Deployment",
      "HorizontalPodAutoscaler",
      "PodDisruptionBudget",
      "Service",
    ]);
    for (const doc of docs) {
      const Model = MODELS[`${doc.apiVersion} ${doc.kind}`];
      expect(Model).toBeDefined();
      expect(() => new (Model as NonNullable<typeof Model>)(doc as never).validate()).not.toThrow();
    }
  });

  test("kustomization.yaml lists every manifest", () => {
    const kustomization = Bun.YAML.parse(
      readFileSync(join(DIR, "kustomization.yaml"), "utf8"),
    ) as Doc;
    const files = readdirSync(DIR).filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml");
    expect([...kustomization.resources].sort()).toEqual(files.sort());
  });

  test("every flag and variable is one memserve knows; the site path is the image's", () => {
    for (const arg of container.args as string[]) {
      if (arg.startsWith("--")) expect(USAGE).toContain(`${arg} `);
    }
    expect(container.args[0]).toBe("/site");
    expect(dockerfile).toContain("COPY --from=build --chown=10001:10001 /site /site");
    for (const { name } of container.env as { name: string }[]) {
      if (name === "PORT") continue;
      const flag = `--${name
        .replace(/^MEMSERVE_/, "")
        .toLowerCase()
        .replace(/_/g, "-")}`;
      expect(USAGE).toContain(flag);
    }
  });

  test("probes ask the admin port's /readyz and /healthz; the grace period outlasts the drain", () => {
    const args = container.args as string[];
    const adminPort = Number(args[args.indexOf("--admin-port") + 1]);
    const ports = Object.fromEntries(
      (container.ports as { name: string; containerPort: number }[]).map((p) => [
        p.name,
        p.containerPort,
      ]),
    );
    expect(ports.admin).toBe(adminPort);
    expect(args[args.indexOf("--admin-host") + 1]).toBe("0.0.0.0");
    expect(container.readinessProbe.httpGet).toEqual({ path: "/readyz", port: "admin" });
    expect(container.livenessProbe.httpGet).toEqual({ path: "/healthz", port: "admin" });
    const drain = Number(args[args.indexOf("--shutdown-timeout") + 1]);
    const preStop = Number(container.lifecycle.preStop.exec.command[1]);
    // memserve exits at most 2 s after its shutdown timeout.
    expect(deployment.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(
      preStop + drain + 2,
    );
    expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
  });

  test("the service, PDB and HPA select the deployment's pods; the rules ConfigMap parses", () => {
    const labels = deployment.spec.template.metadata.labels;
    expect(find("Service").spec.selector).toEqual(labels);
    expect(find("PodDisruptionBudget").spec.selector.matchLabels).toEqual(labels);
    expect(find("HorizontalPodAutoscaler").spec.scaleTargetRef.name).toBe(deployment.metadata.name);
    const rules = find("ConfigMap").data;
    expect(parseHeaders(rules._headers).length).toBeGreaterThan(0);
    expect(parseRedirects(rules._redirects).rules.length).toBeGreaterThan(0);
    const mounted = (container.volumeMounts as { mountPath: string }[]).map((m) => m.mountPath);
    expect(mounted).toEqual(
      expect.arrayContaining(["/site/_headers", "/site/_redirects", "/dev/shm"]),
    );
  });
});
