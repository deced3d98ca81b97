"""Field types shared by the API schemas."""

from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, StringConstraints, WithJsonSchema

from wallet.crypto.encoding import b64d, b64e


def _decode(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    try:
        return b64d(value)
    except (ValueError, TypeError) as exc:
        raise ValueError("must be unpadded URL-safe base64") from exc


B64 = Annotated[
    bytes,
    BeforeValidator(_decode),
    PlainSerializer(b64e, return_type=str),
    WithJsonSchema({"type": "string", "contentEncoding": "base64url"}),
]

Handle = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        to_lower=True,
        min_length=3,
        max_length=40,
        pattern=r"^[a-z0-9][a-z0-9-]*[a-z0-9]$",
    ),
]

HexId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]


def b64(value: bytes) -> str:
    return b64e(value)
