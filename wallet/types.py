"""Field types shared by the API schemas."""

from typing import Annotated, Any

from pydantic import (
    BeforeValidator,
    Field,
    GetJsonSchemaHandler,
    PlainSerializer,
    StringConstraints,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from wallet.crypto.encoding import b64d, b64e


def _decode(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    try:
        return b64d(value)
    except (ValueError, TypeError) as exc:
        raise ValueError("must be unpadded URL-safe base64") from exc


def _encoded_length(size: int) -> int:
    return -(-4 * size // 3)  # unpadded base64: 4 characters per 3 bytes, rounded up


class _Base64urlSchema:
    """B64 in the JSON schema: a base64url string whose length bounds are those of its bytes
    (Field(min_length=..., max_length=...) counts bytes), so the description shows them."""

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema: JsonSchemaValue = {"type": "string", "contentEncoding": "base64url"}
        node: Any = core_schema
        while isinstance(node, dict):
            # A bound sits on the bytes schema itself, or on a validator around it.
            updates = (node.get("metadata") or {}).get("pydantic_js_updates") or {}
            for key, core_key in (("minLength", "min_length"), ("maxLength", "max_length")):
                size = updates.get(key, node.get(core_key) if node.get("type") == "bytes" else None)
                if size is not None and key not in schema:
                    schema[key] = _encoded_length(int(size))
            node = node.get("schema")
        return schema


B64 = Annotated[
    bytes,
    BeforeValidator(_decode),
    PlainSerializer(b64e, return_type=str),
    _Base64urlSchema(),
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

# An id (32 hex characters) or a handle in a path: anything longer is no reference to look up.
# A length, not a pattern, so a malformed id still gets the route's own 404.
Ref = Annotated[str, StringConstraints(max_length=64)]

# A word from a closed set (a mandate's kind or action); the service says which are known.
Word = Annotated[str, StringConstraints(max_length=32)]

# The largest value of PostgreSQL's `integer`, the column type of every version, sequence number,
# epoch and count: a larger number in a path, query or body is a 422, never a database error.
INT32_MAX = 2**31 - 1

# A document's version number (path parameter or body field).
Version = Annotated[int, Field(ge=1, le=INT32_MAX)]

# A position in a sequence (the journal's `after`): 0 is before the first entry.
Position = Annotated[int, Field(ge=0, le=INT32_MAX)]


def b64(value: bytes) -> str:
    return b64e(value)
