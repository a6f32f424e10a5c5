/**
 * codebot's own seccomp profile for sandboxes, passed to the engine with each container. It
 * replaces the engine's default profile.
 *
 * Docker's default profile is an allowlist tuned for general containers; it still allows ptrace,
 * process_vm_readv/writev and (on older engines) io_uring. A data-analysis session needs none of
 * these, nor anything that creates namespaces, loads kernel code or touches the machine's clock.
 * This profile allows the rest and refuses those with EPERM (ENOSYS for clone3, so the C library
 * falls back to clone, whose namespace flags are refused): every call Docker's default refuses to a
 * container without capabilities is refused here too, plus the ones above. A denylist rather than
 * an allowlist, so a new C library or Python calling a newer, harmless system call keeps working. Under gVisor the engine's runtime
 * enforces its own, stricter boundary; runsc applies this profile inside its own kernel too when it
 * is registered with --oci-seccomp (recent releases implement process_vm_readv and keyctl there).
 * gVisor answers every refused call with EPERM whatever errnoRet says, so clone3 refused would leave
 * the C library no fallback and no thread could start: under gVisor clone3 is left to gVisor's kernel,
 * where namespaces never reach the host's.
 */
const DENIED = [
  // reading or steering another process (the supervisor above all)
  "ptrace", "process_vm_readv", "process_vm_writev", "process_madvise", "kcmp", "pidfd_getfd",
  // a second kernel interface, with a long record of privilege escalations
  "io_uring_setup", "io_uring_enter", "io_uring_register",
  // namespaces, mounts and the root
  "unshare", "setns", "mount", "umount", "umount2", "pivot_root", "chroot", "mount_setattr",
  "fsopen", "fsconfig", "fsmount", "fspick", "open_tree", "move_mount",
  // kernel code, keys, tracing and low-level memory tricks
  "bpf", "perf_event_open", "userfaultfd", "keyctl", "add_key", "request_key",
  "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
  "open_by_handle_at", "name_to_handle_at", "lookup_dcookie", "uselib", "vm86", "vm86old",
  "iopl", "ioperm", "modify_ldt", "nfsservctl", "_sysctl", "sysfs", "ustat", "quotactl", "quotactl_fd",
  "create_module", "get_kernel_syms", "query_module",
  // the machine itself
  "reboot", "swapon", "swapoff", "syslog", "acct", "settimeofday", "stime", "clock_settime", "clock_settime64",
  "clock_adjtime", "clock_adjtime64", "adjtimex", "sethostname", "setdomainname",
  "fanotify_init", "get_mempolicy", "set_mempolicy", "mbind", "move_pages", "migrate_pages",
];

/** clone() flags that create namespaces (CLONE_NEWNS … CLONE_NEWNET): refused one by one. */
const NAMESPACE_FLAGS = [0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000];

const EPERM = 1;
const ENOSYS = 38;

export interface SeccompProfile {
  defaultAction: string;
  architectures: string[];
  syscalls: Array<{ names: string[]; action: string; errnoRet?: number; args?: Array<{ index: number; value: number; valueTwo: number; op: string }> }>;
}

export function seccompProfile({ gvisor = false }: { gvisor?: boolean } = {}): SeccompProfile {
  return {
    defaultAction: "SCMP_ACT_ALLOW",
    architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"],
    syscalls: [
      { names: DENIED, action: "SCMP_ACT_ERRNO", errnoRet: EPERM },
      ...(gvisor ? [] : [{ names: ["clone3"], action: "SCMP_ACT_ERRNO", errnoRet: ENOSYS }]),
      ...NAMESPACE_FLAGS.map((flag) => ({
        names: ["clone"],
        action: "SCMP_ACT_ERRNO",
        errnoRet: EPERM,
        args: [{ index: 0, value: flag, valueTwo: flag, op: "SCMP_CMP_MASKED_EQ" }],
      })),
    ],
  };
}
