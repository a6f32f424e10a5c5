"""A session's CPU-time budget and maximum lifetime, measured from inside the container."""

import os
import time

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _cgroup_cpu_seconds():
    """CPU time of the whole container (every process, dead ones included), where cgroups show it."""
    try:
        with open("/sys/fs/cgroup/cpu.stat") as handle:  # cgroup v2
            for line in handle:
                key, _, value = line.partition(" ")
                if key == "usage_usec":
                    return int(value) / 1e6
    except OSError:
        pass
    for path in ("/sys/fs/cgroup/cpuacct/cpuacct.usage", "/sys/fs/cgroup/cpu,cpuacct/cpuacct.usage"):
        try:
            with open(path) as handle:
                return int(handle.read()) / 1e9
        except (OSError, ValueError):
            continue
    return None


def process_cpu_seconds(pid):
    """utime + stime + the reaped children's, from /proc/PID/stat."""
    try:
        with open("/proc/%d/stat" % pid) as handle:
            fields = handle.read().rpartition(")")[2].split()
        return sum(int(value) for value in fields[11:15]) / CLOCK_TICKS
    except (OSError, ValueError, IndexError):
        return 0.0


class SessionBudget:
    """Counts the CPU time the session's code uses (across Python restarts) against a budget,
    and the session's age against its maximum lifetime."""

    def __init__(self, cpu_budget_s, max_lifetime_s):
        self.cpu_budget_s = cpu_budget_s
        self.max_lifetime_s = max_lifetime_s
        self.started = time.monotonic()
        self.use_cgroup = _cgroup_cpu_seconds() is not None
        self.start()

    def start(self):
        """Counting starts once the session is ready: starting Python and importing the data stack is free."""
        self.base = self._raw(None)
        self.finished_kernels = 0.0

    def _raw(self, kernel_pid):
        if self.use_cgroup:
            return _cgroup_cpu_seconds() or 0.0
        return process_cpu_seconds(kernel_pid) if kernel_pid else 0.0

    def kernel_ended(self, kernel_pid_seconds):
        """Without cgroups, keep what a kernel used before it was replaced."""
        if not self.use_cgroup:
            self.finished_kernels += kernel_pid_seconds

    def cpu_used(self, kernel_pid):
        if self.use_cgroup:
            return self._raw(None) - self.base
        return self.finished_kernels + self._raw(kernel_pid)

    def cpu_exhausted(self, kernel_pid):
        return self.cpu_budget_s > 0 and self.cpu_used(kernel_pid) >= self.cpu_budget_s

    def lifetime_end(self):
        """Monotonic time at which the session must end (inf when unlimited)."""
        return self.started + self.max_lifetime_s if self.max_lifetime_s > 0 else float("inf")
