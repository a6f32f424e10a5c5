"""Bounded capture of a stream: the head and the tail are kept, what lies between is counted."""

TAIL_BYTES = 4096


def human_bytes(count):
    for unit in ("bytes", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return ("%d %s" % (count, unit)) if unit == "bytes" else ("%.1f %s" % (count, unit))
        count /= 1024.0


class CappedBuffer:
    """Keeps at most `cap` bytes of a stream, however much is written and however it is split."""

    def __init__(self, cap):
        self.head_cap = max(cap - min(TAIL_BYTES, cap // 4), 0)
        self.tail_cap = cap - self.head_cap
        self.head = bytearray()
        self.tail = bytearray()
        self.dropped = 0

    def add(self, data):
        room = self.head_cap - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if not data:
            return
        if len(data) >= self.tail_cap:
            self.dropped += len(self.tail) + len(data) - self.tail_cap
            self.tail = bytearray(data[len(data) - self.tail_cap:]) if self.tail_cap else bytearray()
            return
        self.tail += data
        overflow = len(self.tail) - self.tail_cap
        if overflow > 0:
            del self.tail[:overflow]
            self.dropped += overflow

    def text(self):
        head = self.head.decode("utf-8", "replace")
        if not self.dropped:
            return head + self.tail.decode("utf-8", "replace")
        note = "\n[... output truncated: %s not shown ...]\n" % human_bytes(self.dropped)
        return head + note + self.tail.decode("utf-8", "replace")
