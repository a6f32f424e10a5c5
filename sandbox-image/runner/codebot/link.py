"""The kernel's side of the private channel, installed by kernel.py when the session starts.

`call(frame)` sends one call frame to the supervisor and returns the worker's answer for it (a
dict with "end" or "error"); it is None outside a codebot sandbox. Whatever the session's code does
with this module only talks to the supervisor, which checks every frame, as the worker does again.
"""

call = None


def install(function):
    global call
    call = function
