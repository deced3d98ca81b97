import base64
import json
from typing import Any


def b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64d(text: str) -> bytes:
    """Decodes unpadded URL-safe base64; raises ValueError on anything else."""
    if not isinstance(text, str) or any(c in text for c in "+/= \n"):
        raise ValueError("not unpadded url-safe base64")
    # validate=True: a character outside the alphabet is an error, not silently dropped.
    return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)


def canonical_json(value: Any) -> bytes:
    """The byte form that signatures cover: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
