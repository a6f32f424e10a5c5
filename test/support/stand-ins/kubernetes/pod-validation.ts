import type { Cause } from "./api-status.js";
import { parseQuantity, QuantityError } from "./quantity.js";

/** DNS-1123 subdomain (pod names) and label (container names), as the API server checks them. */
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;

const required = (field: string): Cause => ({ field, reason: "FieldValueRequired", message: "Required value" });
const invalidValue = (field: string, value: unknown, message: string): Cause => ({ field, reason: "FieldValueInvalid", message: `Invalid value: ${JSON.stringify(value)}: ${message}` });

function checkLabels(labels: unknown, field: string, causes: Cause[]): void {
  if (labels === undefined) return;
  if (typeof labels !== "object" || labels === null || Array.isArray(labels)) {
    causes.push(invalidValue(field, labels, "must be a map of strings"));
    return;
  }
  for (const [key, value] of Object.entries(labels)) {
    if (!LABEL_KEY.test(key) || key.length > 316) causes.push(invalidValue(field, key, "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"));
    if (typeof value !== "string" || !LABEL_VALUE.test(value)) causes.push(invalidValue(`${field}`, value, "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (at most 63)"));
  }
}

function checkResources(resources: any, field: string, causes: Cause[]): void {
  for (const kind of ["requests", "limits"] as const) {
    for (const [name, value] of Object.entries(resources?.[kind] ?? {})) {
      try {
        if (parseQuantity(value) < 0) causes.push(invalidValue(`${field}.${kind}[${name}]`, value, "must be greater than or equal to 0"));
      } catch (error) {
        if (!(error instanceof QuantityError)) throw error;
        causes.push(invalidValue(`${field}.${kind}[${name}]`, value, error.message));
      }
    }
  }
  for (const [name, request] of Object.entries(resources?.requests ?? {})) {
    const limit = resources?.limits?.[name];
    try {
      if (limit !== undefined && parseQuantity(request) > parseQuantity(limit)) causes.push(invalidValue(`${field}.requests`, request, `must be less than or equal to ${name} limit of ${limit}`));
    } catch {
      // reported above
    }
  }
}

/**
 * The checks the API server makes of a pod it is asked to create (the ones a pod of codebot's can
 * meet; ValidatePodCreate has many more): metadata names and labels, one or more containers with a
 * name and an image, quantities, volumes that mounts name. Returns the causes of a 422 Invalid.
 */
export function validatePod(pod: any): Cause[] {
  const causes: Cause[] = [];
  const name = pod?.metadata?.name;
  if (typeof name !== "string" || name === "") causes.push(required("metadata.name"));
  else if (!SUBDOMAIN.test(name) || name.length > 253) causes.push(invalidValue("metadata.name", name, "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"));
  checkLabels(pod?.metadata?.labels, "metadata.labels", causes);
  const containers = pod?.spec?.containers;
  if (!Array.isArray(containers) || containers.length === 0) causes.push(required("spec.containers"));
  const volumes = new Set<string>((pod?.spec?.volumes ?? []).map((volume: any) => volume?.name));
  (Array.isArray(containers) ? containers : []).forEach((container: any, index: number) => {
    const field = `spec.containers[${index}]`;
    if (typeof container?.name !== "string" || container.name === "") causes.push(required(`${field}.name`));
    else if (!LABEL.test(container.name) || container.name.length > 63) causes.push(invalidValue(`${field}.name`, container.name, "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'"));
    if (typeof container?.image !== "string" || container.image.trim() === "") causes.push(required(`${field}.image`));
    checkResources(container?.resources, `${field}.resources`, causes);
    (container?.volumeMounts ?? []).forEach((mount: any, at: number) => {
      if (!volumes.has(mount?.name)) causes.push({ field: `${field}.volumeMounts[${at}].name`, reason: "FieldValueNotFound", message: `Not found: ${JSON.stringify(mount?.name)}` });
    });
  });
  const restart = pod?.spec?.restartPolicy;
  if (restart !== undefined && !["Always", "OnFailure", "Never"].includes(restart)) causes.push({ field: "spec.restartPolicy", reason: "FieldValueNotSupported", message: `Unsupported value: ${JSON.stringify(restart)}: supported values: "Always", "OnFailure", "Never"` });
  for (const volume of pod?.spec?.volumes ?? []) {
    const size = volume?.emptyDir?.sizeLimit;
    if (size !== undefined) {
      try {
        parseQuantity(size);
      } catch {
        causes.push(invalidValue(`spec.volumes[${volume.name}].emptyDir.sizeLimit`, size, "quantities must match the regular expression"));
      }
    }
  }
  return causes;
}

/** Fields of a running pod that a patch may change here: metadata.labels and metadata.annotations (the rest of the spec is immutable, and the stand-in does not take patches of it). */
export function validateMetadataPatch(patch: any): Cause[] {
  const causes: Cause[] = [];
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) return [invalidValue("body", patch, "must be a JSON object")];
  for (const key of Object.keys(patch)) if (key !== "metadata") causes.push({ field: key, reason: "FieldValueForbidden", message: "Forbidden: the stand-in takes patches of metadata.labels and metadata.annotations only" });
  for (const key of Object.keys(patch.metadata ?? {})) {
    if (!["labels", "annotations", "resourceVersion"].includes(key)) causes.push({ field: `metadata.${key}`, reason: "FieldValueForbidden", message: "Forbidden: the stand-in takes patches of metadata.labels and metadata.annotations only" });
  }
  const labels = patch.metadata?.labels;
  if (labels) checkLabels(Object.fromEntries(Object.entries(labels).filter(([, value]) => value !== null)), "metadata.labels", causes);
  return causes;
}
