"""Starts the Python session (kernel.py) as the unprivileged sandbox user.

The supervisor is root inside the container, with only the capabilities it needs (setuid/setgid
to start the kernel, kill to end what the code leaves behind, dac_read_search to list the user's
files). The kernel runs as uid 1000 with an empty capability bounding set, so the user's code can
neither signal, ptrace nor read the memory or file descriptors of the supervisor, and never sees
the container's stdin/stdout, where the host protocol is spoken.
"""

import ctypes
import os
import sys

SANDBOX_UID = 1000
PR_SET_DUMPABLE = 4
PR_CAPBSET_DROP = 24
LAST_CAP = 63

_libc = ctypes.CDLL(None, use_errno=True)


def make_undumpable():
    """No core dumps and no /proc/PID/mem or fd access for anyone but root with CAP_SYS_PTRACE."""
    _libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)


def _drop_bounding_set():
    for cap in range(LAST_CAP + 1):
        _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)


def _move_high(fds):
    """Duplicates fds above any target number, so dup2 onto 0..4 can't clobber a source."""
    import fcntl

    return [fcntl.fcntl(fd, fcntl.F_DUPFD, 100) for fd in fds]


def spawn_kernel(script, env, stdout_fd, stderr_fd, ctrl_in_fd, ctrl_out_fd, cwd, drop_privileges=True, max_processes=0):
    """Forks and execs `python3 -I script 3 4` as uid/gid 1000 with no capabilities.
    In the child: fd 0 is /dev/null, 1 and 2 the output pipes, 3 and 4 the control pipes."""
    argv = [sys.executable, "-I", script, "3", "4"]
    pid = os.fork()
    if pid:
        return pid
    try:
        devnull = os.open("/dev/null", os.O_RDONLY)
        sources = _move_high([devnull, stdout_fd, stderr_fd, ctrl_in_fd, ctrl_out_fd])
        for target, source in enumerate(sources):
            os.dup2(source, target)
        os.closerange(5, os.sysconf("SC_OPEN_MAX") if os.sysconf("SC_OPEN_MAX") > 0 else 65536)
        os.setsid()
        if max_processes:
            # Where the engine's pids limit doesn't reach the code (gVisor), a per-user process cap does.
            import resource

            resource.setrlimit(resource.RLIMIT_NPROC, (max_processes, max_processes))
        if drop_privileges:
            _drop_bounding_set()
            os.setgroups([])
            os.setresgid(SANDBOX_UID, SANDBOX_UID, SANDBOX_UID)
            os.setresuid(SANDBOX_UID, SANDBOX_UID, SANDBOX_UID)
        os.chdir(cwd)
        os.execve(sys.executable, argv, env)
    except BaseException:  # never return into the supervisor's code in the child
        os._exit(127)
    os._exit(127)
