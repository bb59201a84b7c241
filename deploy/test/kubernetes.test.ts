// Keeps deploy/kubernetes in step with the code: every object valid against the
// Kubernetes and KEDA schemas (offline, kubernetes-models), the variables each service
// reads, the ports it listens on, the queues it consumes, the time it takes to stop.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { ConfigMap, Namespace, Secret, Service } from "kubernetes-models/v1";
import { Deployment } from "kubernetes-models/apps/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { ScaledObject, TriggerAuthentication } from "@kubernetes-models/keda/keda.sh/v1alpha1";
// The root package imports these workspace packages from their build (`pnpm test` runs `tsc -b` first).
import { loadConfig, serviceSpecs, variablesOf, type ServiceName } from "@correo/config";
import { topology, type WorkQueue } from "@correo/broker";

const repoRoot = resolve(__dirname, "..", "..");
const kubernetesDir = join(repoRoot, "deploy", "kubernetes");
const correoServices = Object.keys(serviceSpecs) as ServiceName[];

// ---- the objects ----------------------------------------------------------------------

/** What every manifest has; the rest is read per kind below. */
interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

/** The schema of each kind the manifests may use: `new Model(object).validate()` throws on a violation. */
const models: Record<string, new (data: never) => { validate(): void }> = {
  "v1/ConfigMap": ConfigMap,
  "v1/Namespace": Namespace,
  "v1/Secret": Secret,
  "v1/Service": Service,
  "apps/v1/Deployment": Deployment,
  "autoscaling/v2/HorizontalPodAutoscaler": HorizontalPodAutoscaler,
  "networking.k8s.io/v1/NetworkPolicy": NetworkPolicy,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "keda.sh/v1alpha1/ScaledObject": ScaledObject,
  "keda.sh/v1alpha1/TriggerAuthentication": TriggerAuthentication,
};

/** The schema violations of one object, [] when it is valid. */
function schemaErrors(object: KubeObject): string[] {
  const Model = models[`${object.apiVersion}/${object.kind}`];
  if (!Model) return [`no schema known for ${object.apiVersion} ${object.kind}`];
  const copy = structuredClone(object);
  // kustomize wraps long base64 values over lines; the API server's decoder (Go's
  // encoding/base64) skips line breaks, the schema's "byte" format does not.
  if (object.kind === "Secret" && copy.data) {
    copy.data = Object.fromEntries(Object.entries(copy.data as Record<string, string>).map(([k, v]) => [k, v.replace(/[\r\n]/g, "")]));
  }
  try {
    new Model(copy as never).validate();
    return [];
  } catch (err) {
    return [(err as Error).message];
  }
}

function yamlDocuments(text: string, source: string): KubeObject[] {
  return parseAllDocuments(text)
    .map((doc) => {
      if (doc.errors.length) throw new Error(`${source}: ${doc.errors[0]!.message}`);
      return doc.toJS() as KubeObject | null;
    })
    .filter((o): o is KubeObject => o !== null);
}

/**
 * The base as kustomize renders it, without kustomize: it uses `resources` only (this
 * refuses anything else), so rendering is reading those files in order.
 */
function readBase(): KubeObject[] {
  const dir = join(kubernetesDir, "base");
  const kustomization = parse(readFileSync(join(dir, "kustomization.yaml"), "utf8")) as Record<string, unknown>;
  const extra = Object.keys(kustomization).filter((k) => !["apiVersion", "kind", "resources"].includes(k));
  expect(extra, "base/kustomization.yaml: this test renders `resources` only; move other fields to an overlay").toEqual([]);
  return (kustomization.resources as string[]).flatMap((file) =>
    yamlDocuments(readFileSync(join(dir, file), "utf8"), `base/${file}`),
  );
}

// kubectl has kustomize built in and renders offline; the project's scripts do not
// install it, so what needs it is skipped where it is missing.
const hasKubectl = (process.env.PATH ?? "")
  .split(":")
  .some((dir) => dir !== "" && existsSync(join(dir, "kubectl")));

function kustomize(path: string): KubeObject[] {
  const run = spawnSync("kubectl", ["kustomize", path], { cwd: repoRoot, encoding: "utf8" });
  if (run.error) throw run.error;
  if (run.status !== 0) throw new Error(`kubectl kustomize ${path}: ${run.stderr}`);
  return yamlDocuments(run.stdout, path);
}

// ---- reading them ---------------------------------------------------------------------

interface ContainerPort {
  name?: string;
  containerPort: number;
}
interface Probe {
  httpGet?: { path?: string; port: number | string };
}
interface Container {
  name: string;
  image?: string;
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  ports?: ContainerPort[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command?: string[] }; sleep?: { seconds: number } } };
  resources?: { requests?: Record<string, string | number>; limits?: Record<string, string | number> };
  securityContext?: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean };
  volumeMounts?: { name: string; mountPath: string }[];
}
interface PodSpec {
  containers: Container[];
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  volumes?: { name: string }[];
}
interface DeploymentObject extends KubeObject {
  spec: { replicas?: number; selector: { matchLabels?: Record<string, string> }; template: { metadata: { labels: Record<string, string> }; spec: PodSpec } };
}
interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
  protocol?: string;
}
interface ServiceObject extends KubeObject {
  spec: { type?: string; selector?: Record<string, string>; ports: ServicePort[]; externalTrafficPolicy?: string };
}
interface PdbObject extends KubeObject {
  spec: { selector: { matchLabels?: Record<string, string> }; maxUnavailable?: number | string; minAvailable?: number | string };
}
interface HpaObject extends KubeObject {
  spec: {
    scaleTargetRef: { kind: string; name: string };
    minReplicas?: number;
    metrics?: { type: string; resource?: { name: string } }[];
  };
}
interface ScaledObjectObject extends KubeObject {
  spec: {
    scaleTargetRef: { kind?: string; name: string };
    minReplicaCount?: number;
    triggers: { type: string; metadata: Record<string, string>; authenticationRef?: { name: string } }[];
  };
}
interface TriggerAuthObject extends KubeObject {
  spec: { secretTargetRef?: { parameter: string; name: string; key: string }[] };
}
interface NetworkPolicyObject extends KubeObject {
  spec: {
    podSelector: { matchLabels?: Record<string, string> };
    policyTypes?: string[];
    ingress?: { from?: unknown[]; ports?: { port?: number | string; protocol?: string }[] }[];
  };
}

function ofKind<T extends KubeObject>(objects: KubeObject[], kind: string): T[] {
  return objects.filter((o) => o.kind === kind) as T[];
}

function selects(selector: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  const entries = Object.entries(selector ?? {});
  return entries.length > 0 && entries.every(([k, v]) => labels[k] === v);
}

/** The environment a container starts with: envFrom ConfigMaps and Secrets, then env. */
function environmentOf(objects: KubeObject[], container: Container): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) {
    if (from.configMapRef) {
      const map = ofKind<KubeObject & { data?: Record<string, string> }>(objects, "ConfigMap").find((m) => m.metadata.name === from.configMapRef!.name);
      expect(map, `ConfigMap ${from.configMapRef.name}`).toBeDefined();
      Object.assign(env, map!.data);
    }
    if (from.secretRef) Object.assign(env, secretValues(objects, from.secretRef.name));
  }
  for (const { name, value } of container.env ?? []) env[name] = value ?? "";
  return env;
}

function secretValues(objects: KubeObject[], name: string): Record<string, string> {
  const secret = ofKind<KubeObject & { data?: Record<string, string>; stringData?: Record<string, string> }>(objects, "Secret").find(
    (s) => s.metadata.name === name,
  );
  expect(secret, `Secret ${name}`).toBeDefined();
  const decoded = Object.entries(secret!.data ?? {}).map(([k, v]) => [k, Buffer.from(v.replace(/\s/g, ""), "base64").toString("utf8")]);
  return { ...Object.fromEntries(decoded), ...secret!.stringData };
}

/** "200m" → 0.2, "1" → 1; "128Mi" → bytes. */
function quantity(value: string | number | undefined): number {
  if (value === undefined) return NaN;
  const m = /^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi|k|M|G)?$/.exec(String(value));
  if (!m) return NaN;
  const scale: Record<string, number> = { "": 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 };
  return Number(m[1]) * scale[m[2] ?? ""]!;
}

function resolvePort(container: Container, port: number | string | undefined): ContainerPort | undefined {
  return (container.ports ?? []).find((p) => (typeof port === "string" ? p.name === port : p.containerPort === port));
}

/** *_PORT variables that name a port Correo connects to, not one it listens on. */
const outboundPortVariables = new Set(["RELAY_SMTP_PORT"]);
function listenerVariables(name: ServiceName): string[] {
  return variablesOf(serviceSpecs[name]).filter((v) => v.endsWith("_PORT") && !outboundPortVariables.has(v));
}

/** The seconds a preStop hook waits, 0 without one. */
function preStopSeconds(container: Container): number {
  const preStop = container.lifecycle?.preStop;
  if (!preStop) return 0;
  if (preStop.sleep) return preStop.sleep.seconds;
  const command = preStop.exec?.command ?? [];
  expect(command[0], "preStop must be a sleep").toBe("sleep");
  return Number(command[1]);
}

/** A number the code defines, read from its source, so the manifests follow a change to it. */
function constantIn(file: string, pattern: RegExp): number {
  const m = pattern.exec(readFileSync(join(repoRoot, file), "utf8"));
  if (!m) throw new Error(`${file}: ${pattern} not found; update kubernetes.test.ts`);
  return Number(m[1]);
}

/** How long each service's graceful stop may take after SIGTERM, in ms, from the code. */
function drainMs(name: ServiceName): number {
  const outbox = constantIn("packages/spool/src/outbox.ts", /stopGraceMs \?\? (\d+)/);
  const own: Partial<Record<ServiceName, number>> = {
    submission: constantIn("services/submission/src/smtp/listener.ts", /closeTimeout: (\d+)/),
    "relay-queue": constantIn("services/relay-queue/src/main.ts", /const DRAIN_MS = (\d+)/),
  };
  return outbox + (own[name] ?? 0);
}

// docker-compose.yml is checked against DESIGN's container ports (compose.test.ts); the
// pods use the same ones, so the images' EXPOSE, docs and both deployments agree.
const compose = parse(readFileSync(join(repoRoot, "docker-compose.yml"), "utf8"), { merge: true }) as {
  services: Record<string, { environment?: Record<string, string> }>;
};

// Ports on the TCP load balancers, and HTTP APIs on ClusterIP (issue 16).
const loadBalancedPorts = [25, 587, 465, 143, 993, 110, 995];
const clusterIpPorts = [8080, 8081];
// Which autoscaler each service has: queue depth for the consumers, CPU for the listeners.
const queueScaled: ServiceName[] = ["routing", "relay-queue", "mailbox"];
const cpuScaled: ServiceName[] = ["submission", "retrieval"];

// ---- the checks -----------------------------------------------------------------------

function checkManifests(label: string, render: () => KubeObject[], opts: { images: "base" | "tagged" }) {
  describe(label, () => {
    const objects = render();
    const deployments = ofKind<DeploymentObject>(objects, "Deployment");
    const deploymentOf = (name: string) => deployments.find((d) => d.metadata.name === name);
    const podsOf = (selector: Record<string, string> | undefined) =>
      deployments.filter((d) => selects(selector, d.spec.template.metadata.labels));

    it("is valid against the Kubernetes and KEDA schemas, object by object", () => {
      expect(objects.length).toBeGreaterThan(0);
      const problems = objects.flatMap((o) => schemaErrors(o).map((e) => `${o.kind}/${o.metadata?.name}: ${e}`));
      expect(problems).toEqual([]);
      const names = objects.map((o) => `${o.kind}/${o.metadata.name}`);
      expect(new Set(names).size, "an object is defined twice").toBe(names.length);
    });

    it("has one Deployment per service, running its image as a non-root user", () => {
      expect(deployments.map((d) => d.metadata.name).sort()).toEqual([...correoServices].sort());
      for (const d of deployments) {
        const pod = d.spec.template.spec;
        expect(pod.containers, d.metadata.name).toHaveLength(1);
        const image = pod.containers[0]!.image ?? "";
        if (opts.images === "base") expect(image, d.metadata.name).toBe(`correo/${d.metadata.name}`);
        else expect(image, d.metadata.name).toMatch(new RegExp(`/correo/${d.metadata.name}:[\\w.-]+$`));
        expect(selects(d.spec.selector.matchLabels, d.spec.template.metadata.labels), `${d.metadata.name} selects its own pods`).toBe(true);
        // The autoscaler owns the count; `replicas` would reset it at every apply.
        expect(d.spec.replicas, `${d.metadata.name} leaves replicas to its autoscaler`).toBeUndefined();
        expect(pod.securityContext?.runAsNonRoot, d.metadata.name).toBe(true);
        expect(pod.containers[0]!.securityContext?.allowPrivilegeEscalation, d.metadata.name).toBe(false);
        for (const mount of pod.containers[0]!.volumeMounts ?? []) {
          expect(pod.volumes?.map((v) => v.name), `${d.metadata.name} mounts ${mount.name}`).toContain(mount.name);
        }
      }
    });

    describe.each(correoServices)("%s", (name) => {
      const deployment = deploymentOf(name);
      const container = deployment?.spec.template.spec.containers[0];

      it("sets only variables that the service reads, with values it accepts", () => {
        const env = environmentOf(objects, container!);
        const reads = variablesOf(serviceSpecs[name]);
        for (const variable of Object.keys(env)) expect(reads, `${name} does not read ${variable}`).toContain(variable);
        expect(() => loadConfig(serviceSpecs[name], env)).not.toThrow();
        expect(env.LISTEN_HOST, "pods take traffic on their own address").toBe("0.0.0.0");
        for (const url of ["AMQP_URL", "DATABASE_URL", "REDIS_URL"]) expect(env[url], `${name} must be given ${url}`).toBeDefined();
        for (const { name: variable, valueFrom } of container!.env ?? []) {
          expect(valueFrom, `${variable}: values come from the ConfigMap, the Secret or env`).toBeUndefined();
        }
      });

      it("declares every port it listens on, at the ports of docker-compose.yml", () => {
        const env = environmentOf(objects, container!);
        const listeners = listenerVariables(name);
        const composeEnv = { ...compose.services[name]?.environment };
        for (const variable of listeners) {
          expect(env[variable], `${name} must set ${variable}`).toBeDefined();
          expect(env[variable], `${variable} as in docker-compose.yml`).toBe(String(composeEnv[variable]));
        }
        const declared = (container!.ports ?? []).map((p) => p.containerPort).sort();
        expect(declared).toEqual(listeners.map((v) => Number(env[v])).sort());
        const names = (container!.ports ?? []).map((p) => p.name);
        expect(names.every((n) => n !== undefined), "every container port is named").toBe(true);
        expect(new Set(names).size).toBe(names.length);
      });

      it("is probed on /healthz (startup, liveness) and /readyz (readiness) of its ops port", () => {
        const opsPort = Number(environmentOf(objects, container!).OPS_PORT);
        const probes = { startupProbe: "/healthz", livenessProbe: "/healthz", readinessProbe: "/readyz" } as const;
        for (const [probe, path] of Object.entries(probes) as [keyof typeof probes, string][]) {
          const get = container![probe]?.httpGet;
          expect(get?.path, `${name} ${probe}`).toBe(path);
          expect(resolvePort(container!, get?.port)?.containerPort, `${name} ${probe} port`).toBe(opsPort);
        }
      });

      it("has requests and limits for CPU and memory, each request within its limit", () => {
        const { requests = {}, limits = {} } = container!.resources ?? {};
        for (const resource of ["cpu", "memory"]) {
          const request = quantity(requests[resource]);
          const limit = quantity(limits[resource]);
          expect(request, `${name} requests.${resource}`).toBeGreaterThan(0);
          expect(limit, `${name} limits.${resource}`).toBeGreaterThanOrEqual(request);
        }
      });

      it("gives its graceful stop more time than the code's drain needs", () => {
        const grace = deployment!.spec.template.spec.terminationGracePeriodSeconds ?? 30;
        const needed = preStopSeconds(container!) + drainMs(name) / 1000;
        expect(grace, `${name}: preStop + drain ${needed} s`).toBeGreaterThan(needed + 5);
        const exposed = ofKind<ServiceObject>(objects, "Service").some((s) => selects(s.spec.selector, deployment!.spec.template.metadata.labels));
        if (exposed) expect(preStopSeconds(container!), `${name} keeps serving while endpoints drop it`).toBeGreaterThan(0);
      });

      it("has a PodDisruptionBudget that lets one pod go while others stay", () => {
        const pdbs = ofKind<PdbObject>(objects, "PodDisruptionBudget").filter((p) =>
          selects(p.spec.selector.matchLabels, deployment!.spec.template.metadata.labels),
        );
        expect(pdbs, `${name} has one PodDisruptionBudget`).toHaveLength(1);
        const pdb = pdbs[0]!.spec;
        expect(pdb.maxUnavailable ?? 0, `${name}: with minAvailable only, a single pod could block a drain`).toBe(1);
      });

      it(`is scaled by ${queueScaled.includes(name) ? "KEDA on the depth of the queue it consumes" : "an HPA on CPU"}, never below two pods`, () => {
        const hpas = ofKind<HpaObject>(objects, "HorizontalPodAutoscaler").filter((h) => h.spec.scaleTargetRef.name === name);
        const scaled = ofKind<ScaledObjectObject>(objects, "ScaledObject").filter((s) => s.spec.scaleTargetRef.name === name);
        expect(hpas.length + scaled.length, `${name} has exactly one autoscaler`).toBe(1);
        if (cpuScaled.includes(name)) {
          expect(hpas).toHaveLength(1);
          expect(hpas[0]!.spec.scaleTargetRef.kind).toBe("Deployment");
          expect(hpas[0]!.spec.metrics?.map((m) => m.resource?.name)).toEqual(["cpu"]);
          expect(hpas[0]!.spec.minReplicas).toBeGreaterThanOrEqual(2);
          return;
        }
        expect(scaled).toHaveLength(1);
        const spec = scaled[0]!.spec;
        expect(spec.scaleTargetRef.kind ?? "Deployment").toBe("Deployment");
        expect(spec.minReplicaCount, "timers run in every copy: not scaled to zero").toBeGreaterThanOrEqual(2);
        // relay-queue consumes three queues (SMTP deliveries, inbound routes' POSTs, webhooks): one trigger each.
        const consumed: WorkQueue[] = name === "relay-queue" ? ["relay-queue", "inbound", "webhooks"] : [name as WorkQueue];
        const env = environmentOf(objects, container!);
        const prefix = env.CORREO_PREFIX ?? serviceSpecs[name].prefix.fallback!;
        expect(spec.triggers.map((t) => t.metadata.queueName), "the queues topology.ts gives this service").toEqual(consumed.map((q) => topology(prefix).queues[q].name));
        for (const t of spec.triggers) {
          expect(t.type).toBe("rabbitmq");
          expect(t.metadata.mode).toBe("QueueLength");
          expect(Number(t.metadata.value)).toBeGreaterThan(0);
          expect(t.authenticationRef?.name).toBe(spec.triggers[0]!.authenticationRef?.name);
        }
        const trigger = spec.triggers[0]!;

        // The broker URL from the Secret the service itself reads it from.
        const auth = ofKind<TriggerAuthObject>(objects, "TriggerAuthentication").find((a) => a.metadata.name === trigger.authenticationRef?.name);
        expect(auth, `TriggerAuthentication ${trigger.authenticationRef?.name}`).toBeDefined();
        const host = auth!.spec.secretTargetRef?.find((r) => r.parameter === "host");
        expect(host?.key).toBe("AMQP_URL");
        expect(container!.envFrom?.map((f) => f.secretRef?.name)).toContain(host!.name);
        expect(secretValues(objects, host!.name).AMQP_URL).toBe(env.AMQP_URL);
      });
    });

    it("gives every work queue of the topology a ScaledObject", () => {
      // relay-queue scales on two queues (its SMTP one and inbound routes'): every trigger counts.
      const queues = ofKind<ScaledObjectObject>(objects, "ScaledObject").flatMap((s) => s.spec.triggers.map((t) => t.metadata.queueName));
      const prefix = environmentOf(objects, deploymentOf("routing")!.spec.template.spec.containers[0]!).CORREO_PREFIX ?? "correo";
      expect(queues.sort()).toEqual(Object.values(topology(prefix).queues).map((q) => q.name).sort());
    });

    it("routes every Service port to a port its pods listen on: mail on TCP load balancers, HTTP on ClusterIP", () => {
      const services = ofKind<ServiceObject>(objects, "Service");
      const byType: Record<string, number[]> = {};
      for (const service of services) {
        const pods = podsOf(service.spec.selector);
        expect(pods.map((d) => d.metadata.name), `Service ${service.metadata.name} selects one Deployment`).toHaveLength(1);
        const container = pods[0]!.spec.template.spec.containers[0]!;
        const env = environmentOf(objects, container);
        const listening = listenerVariables(pods[0]!.metadata.name as ServiceName).map((v) => Number(env[v]));
        for (const port of service.spec.ports) {
          expect(port.protocol ?? "TCP").toBe("TCP");
          const target = resolvePort(container, port.targetPort ?? port.port);
          expect(target, `${service.metadata.name}:${port.port} → ${port.targetPort}`).toBeDefined();
          expect(listening, `${service.metadata.name}:${port.port}`).toContain(target!.containerPort);
          expect(port.port, `${service.metadata.name} serves the standard port`).toBe(target!.containerPort);
          (byType[service.spec.type ?? "ClusterIP"] ??= []).push(port.port);
        }
        // The client's own address: per-IP limits, the login throttle and Received: need it.
        if (service.spec.type === "LoadBalancer") expect(service.spec.externalTrafficPolicy, service.metadata.name).toBe("Local");
      }
      expect((byType.LoadBalancer ?? []).sort()).toEqual([...loadBalancedPorts].sort());
      expect((byType.ClusterIP ?? []).sort()).toEqual([...clusterIpPorts].sort());
      expect(Object.keys(byType).sort()).toEqual(["ClusterIP", "LoadBalancer"]);
    });

    it("denies ingress by default and allows each Service port and the ops port through a NetworkPolicy", () => {
      const policies = ofKind<NetworkPolicyObject>(objects, "NetworkPolicy");
      const denyAll = policies.filter((p) => p.spec.policyTypes?.includes("Ingress") && (p.spec.ingress ?? []).length === 0);
      for (const d of deployments) {
        const labels = d.spec.template.metadata.labels;
        const container = d.spec.template.spec.containers[0]!;
        expect(denyAll.some((p) => selects(p.spec.podSelector.matchLabels, labels)), `${d.metadata.name} under a default deny`).toBe(true);
        const allowed = new Set<number>();
        for (const policy of policies.filter((p) => selects(p.spec.podSelector.matchLabels, labels))) {
          for (const rule of policy.spec.ingress ?? []) {
            for (const port of rule.ports ?? []) {
              const target = resolvePort(container, port.port);
              // A name matches on the pods that have it; a policy may cover pods without it.
              if (typeof port.port === "number") expect(target, `${policy.metadata.name} port ${port.port} on ${d.metadata.name}`).toBeDefined();
              if (target) allowed.add(target.containerPort);
            }
          }
        }
        const wanted = ofKind<ServiceObject>(objects, "Service")
          .filter((s) => selects(s.spec.selector, labels))
          .flatMap((s) => s.spec.ports.map((p) => resolvePort(container, p.targetPort ?? p.port)!.containerPort));
        wanted.push(Number(environmentOf(objects, container).OPS_PORT));
        for (const port of wanted) expect([...allowed], `${d.metadata.name} port ${port} allowed`).toContain(port);
      }
      for (const policy of policies) {
        const ports = (policy.spec.ingress ?? []).flatMap((r) => r.ports ?? []);
        for (const { port } of ports.filter((p) => typeof p.port === "string")) {
          const somewhere = podsOf(policy.spec.podSelector.matchLabels).some((d) => resolvePort(d.spec.template.spec.containers[0]!, port));
          expect(somewhere, `${policy.metadata.name}: no selected pod has a port named ${port}`).toBe(true);
        }
      }
    });
  });
}

describe("deploy/kubernetes", () => {
  it("rejects a broken manifest (the schemas are really applied)", () => {
    const deployment = readBase().find((o) => o.kind === "Deployment")! as DeploymentObject;
    expect(schemaErrors(deployment)).toEqual([]);
    const portAsText = structuredClone(deployment);
    (portAsText.spec.template.spec.containers[0]!.ports![0] as { containerPort: unknown }).containerPort = "25";
    expect(schemaErrors(portAsText).join()).toMatch(/containerPort must be integer/);
    const noSelector = structuredClone(deployment) as KubeObject & { spec: Record<string, unknown> };
    delete noSelector.spec.selector;
    expect(schemaErrors(noSelector).join()).toMatch(/required property selector/);
    const scaled = readBase().find((o) => o.kind === "ScaledObject")! as ScaledObjectObject;
    const noTarget = structuredClone(scaled) as KubeObject & { spec: Record<string, unknown> };
    delete noTarget.spec.scaleTargetRef;
    expect(schemaErrors(noTarget).join()).toMatch(/scaleTargetRef/);
    expect(schemaErrors({ ...deployment, apiVersion: "apps/v1beta1" })).toEqual(["no schema known for apps/v1beta1 Deployment"]);
  });

  checkManifests("base (read from kustomization.yaml's resources)", readBase, { images: "base" });

  it.skipIf(!hasKubectl)("base: kubectl kustomize renders exactly what this test reads", () => {
    const key = (o: KubeObject) => `${o.kind}/${o.metadata.name}`;
    const sorted = (list: KubeObject[]) => [...list].sort((a, b) => key(a).localeCompare(key(b)));
    expect(sorted(kustomize("deploy/kubernetes/base"))).toEqual(sorted(readBase()));
  }, 30_000);

  if (hasKubectl) {
    checkManifests("overlays/example (kubectl kustomize)", () => kustomize("deploy/kubernetes/overlays/example"), { images: "tagged" });
    it("overlays/example: puts everything in its namespace and mounts the certificate it names", () => {
      const objects = kustomize("deploy/kubernetes/overlays/example");
      for (const o of objects.filter((o) => o.kind !== "Namespace")) expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe("correo");
      for (const d of ofKind<DeploymentObject>(objects, "Deployment").filter((d) => ["submission", "retrieval"].includes(d.metadata.name))) {
        const container = d.spec.template.spec.containers[0]!;
        const env = environmentOf(objects, container);
        for (const file of [env.TLS_CERT_PATH, env.TLS_KEY_PATH]) {
          expect(file, d.metadata.name).toBeDefined();
          expect(container.volumeMounts?.map((m) => m.mountPath), `${d.metadata.name} mounts ${file}`).toContain(dirname(file!));
        }
      }
    }, 30_000);
  } else {
    it.skip("overlays/example (needs kubectl for kustomize's patches)", () => undefined);
  }
});
