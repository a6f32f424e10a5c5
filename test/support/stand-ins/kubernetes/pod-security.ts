/** The capabilities Pod Security "baseline" lets a container add (the Pod Security Standards, baseline profile). */
const BASELINE_CAPABILITIES = new Set(["AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"]);

/**
 * The Pod Security admission's "baseline" check of a pod, for the parts a sandbox pod can meet:
 * privileged containers, host namespaces, hostPath volumes, added capabilities outside the
 * baseline list, and Unconfined seccomp. Returns the forbidden message the API server sends, or
 * undefined when the pod is admitted.
 */
export function baselineViolations(pod: any): string | undefined {
  const problems: string[] = [];
  const containers: any[] = pod.spec?.containers ?? [];
  const privileged = containers.filter((container) => container.securityContext?.privileged).map((container) => `"${container.name}"`);
  if (privileged.length) problems.push(`privileged (container ${privileged.join(", ")} must not set securityContext.privileged=true)`);
  const hosts = ["hostNetwork", "hostPID", "hostIPC"].filter((field) => pod.spec?.[field]);
  if (hosts.length) problems.push(`host namespaces (${hosts.map((field) => `${field}=true`).join(", ")})`);
  const hostPaths = (pod.spec?.volumes ?? []).filter((volume: any) => volume.hostPath).map((volume: any) => `"${volume.name}"`);
  if (hostPaths.length) problems.push(`hostPath volumes (volume ${hostPaths.join(", ")})`);
  for (const container of containers) {
    const extra = (container.securityContext?.capabilities?.add ?? []).filter((name: string) => !BASELINE_CAPABILITIES.has(name));
    if (extra.length) problems.push(`non-default capabilities (container "${container.name}" must not include ${extra.map((name: string) => `"${name}"`).join(", ")} in securityContext.capabilities.add)`);
  }
  const seccomp = [pod.spec?.securityContext?.seccompProfile, ...containers.map((container) => container.securityContext?.seccompProfile)];
  if (seccomp.some((profile) => profile?.type === "Unconfined")) problems.push(`seccompProfile (pod or containers must not set securityContext.seccompProfile.type to "Unconfined")`);
  return problems.length ? `violates PodSecurity "baseline:latest": ${problems.join(", ")}` : undefined;
}
