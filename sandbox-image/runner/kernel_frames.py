"""Checks what the kernel sends back. The kernel runs the user's code, so anything on its control
pipe may be forged: a frame is accepted only if it is one well-formed, bounded JSON object that
answers the execution in progress, and is kept only for the fields the host expects."""

import base64
import binascii
import json

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class FrameError(Exception):
    """The kernel broke the protocol: its session can't be trusted to answer the next cell right."""


def _text(value, limit, field):
    if not isinstance(value, str):
        raise FrameError("%s is not text" % field)
    if len(value) > limit:
        raise FrameError("%s is over its limit" % field)
    return value


def _count(value, field):
    if not isinstance(value, int) or isinstance(value, bool) or value < 0 or value > 1_000_000:
        raise FrameError("%s is not a count" % field)
    return value


def _images(value, limits):
    if not isinstance(value, list) or len(value) > limits["maxImages"]:
        raise FrameError("too many images")
    images, total = [], 0
    for item in value:
        if not isinstance(item, dict):
            raise FrameError("an image is not an object")
        data = _text(item.get("data"), (limits["maxImageBytes"] * 4) // 3 + 4, "an image")
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise FrameError("an image is not base64")
        if not raw.startswith(PNG_MAGIC):
            raise FrameError("an image is not a PNG")
        total += len(raw)
        images.append({"mime": "image/png", "data": data})
    return images, total


def parse_done(line, request_id, limits):
    """The kernel's answer to request_id, reduced to known, bounded fields; FrameError otherwise."""
    try:
        frame = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        raise FrameError("the answer is not JSON")
    if not isinstance(frame, dict) or frame.get("op") != "done":
        raise FrameError("the answer is not a result")
    if frame.get("id") != request_id:
        raise FrameError("the answer is for another execution")
    result_limit = limits["maxResultBytes"] + 200
    answer = {"images": [], "droppedImages": 0, "oversizedImages": 0}
    if "result" in frame:
        answer["result"] = _text(frame["result"], result_limit, "the result")
    if "error" in frame:
        error = frame["error"]
        if not isinstance(error, dict):
            raise FrameError("the error is not an object")
        answer["error"] = {
            "name": _text(error.get("name"), 400, "the error's name"),
            "value": _text(error.get("value"), result_limit, "the error's message"),
            "traceback": _text(error.get("traceback"), result_limit, "the traceback"),
        }
    answer["images"], _ = _images(frame.get("images", []), limits)
    for key in ("droppedImages", "oversizedImages"):
        if key in frame:
            answer[key] = _count(frame[key], key)
    return answer


def max_frame_bytes(limits):
    """The longest line a well-behaved kernel can send with these limits (JSON escapes included)."""
    images = limits["maxImages"] * ((limits["maxImageBytes"] * 4) // 3 + 64)
    return images + 3 * 6 * (limits["maxResultBytes"] + 200) + 64 * 1024
