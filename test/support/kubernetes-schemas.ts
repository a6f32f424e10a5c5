import * as client from "@kubernetes/client-node";
import { Deployment, StatefulSet } from "kubernetes-models/apps/v1";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import { RuntimeClass } from "kubernetes-models/node.k8s.io/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { Role, RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1";
import { ConfigMap, LimitRange, Namespace, ResourceQuota, Secret, Service, ServiceAccount } from "kubernetes-models/v1";
import type { KubeObject } from "./kubernetes-manifests.js";

type Validating = { validate(): void };
type ModelClass = new (data: any) => Validating;

/** The kinds codebot's manifests use: kubernetes-models' class (OpenAPI schema) and client-node's model name. */
const KINDS: Record<string, { model: ModelClass; clientModel: string; clusterScoped?: boolean }> = {
  "v1/Namespace": { model: Namespace, clientModel: "V1Namespace", clusterScoped: true },
  "v1/ServiceAccount": { model: ServiceAccount, clientModel: "V1ServiceAccount" },
  "v1/ConfigMap": { model: ConfigMap, clientModel: "V1ConfigMap" },
  "v1/Secret": { model: Secret, clientModel: "V1Secret" },
  "v1/Service": { model: Service, clientModel: "V1Service" },
  "v1/ResourceQuota": { model: ResourceQuota, clientModel: "V1ResourceQuota" },
  "v1/LimitRange": { model: LimitRange, clientModel: "V1LimitRange" },
  "apps/v1/Deployment": { model: Deployment, clientModel: "V1Deployment" },
  "apps/v1/StatefulSet": { model: StatefulSet, clientModel: "V1StatefulSet" },
  "policy/v1/PodDisruptionBudget": { model: PodDisruptionBudget, clientModel: "V1PodDisruptionBudget" },
  "networking.k8s.io/v1/NetworkPolicy": { model: NetworkPolicy, clientModel: "V1NetworkPolicy" },
  "rbac.authorization.k8s.io/v1/Role": { model: Role, clientModel: "V1Role" },
  "rbac.authorization.k8s.io/v1/RoleBinding": { model: RoleBinding, clientModel: "V1RoleBinding" },
  "node.k8s.io/v1/RuntimeClass": { model: RuntimeClass, clientModel: "V1RuntimeClass", clusterScoped: true },
};

export const isClusterScoped = (object: KubeObject): boolean => KINDS[`${object.apiVersion}/${object.kind}`]?.clusterScoped === true;

type Attribute = { baseName: string; type: string };
const models = client as unknown as Record<string, { getAttributeTypeMap?: () => Attribute[] } | undefined>;

/**
 * Fields the API doesn't know, found by walking the object along client-node's models (generated
 * from the Kubernetes OpenAPI document): the JSON schemas accept unknown fields, which a real API
 * server drops (or, with strict field validation, refuses), so a misspelt field would pass them.
 */
export function unknownFields(value: unknown, type: string, path = ""): string[] {
  if (value === null || value === undefined) return [];
  const array = /^Array<(.+)>$/.exec(type);
  if (array) return (value as unknown[]).flatMap((item, index) => unknownFields(item, array[1]!, `${path}[${index}]`));
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) return Object.entries(value as object).flatMap(([key, item]) => unknownFields(item, map[1]!, `${path}.${key}`));
  const attributes = models[type]?.getAttributeTypeMap?.();
  if (!attributes) return [];
  const known = new Map(attributes.map((attribute) => [attribute.baseName, attribute.type]));
  return Object.entries(value as object).flatMap(([key, item]) => (known.has(key) ? unknownFields(item, known.get(key)!, `${path}.${key}`) : [`${path}.${key}`]));
}

/**
 * Problems of one object against the Kubernetes OpenAPI schemas: its kind unknown to the check,
 * a schema violation (kubernetes-models' validate(): types, required fields, enums, formats), or a
 * field the API doesn't have. Empty when it is valid.
 */
export function schemaProblems(object: KubeObject): string[] {
  const name = `${object.kind} ${object.metadata?.namespace ?? ""}/${object.metadata?.name}`;
  const kind = KINDS[`${object.apiVersion}/${object.kind}`];
  if (!kind) return [`${name}: no schema for ${object.apiVersion} ${object.kind} in this check (add it to test/support/kubernetes-schemas.ts)`];
  const problems: string[] = [];
  try {
    new kind.model(object).validate();
  } catch (error) {
    problems.push(`${name}: ${(error as Error).message}`);
  }
  for (const field of unknownFields(object, kind.clientModel)) problems.push(`${name}: unknown field ${field}`);
  return problems;
}
