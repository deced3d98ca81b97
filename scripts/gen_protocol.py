"""Writes web/src/generated/protocol.js from the Python protocol definitions (wallet/protocol).

Usage: .venv/bin/python scripts/gen_protocol.py [--check]
  --check  writes nothing; exits 1 when the file is missing or differs.
Needs only the standard library, so a build stage without the project's dependencies runs it.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from wallet.protocol.js import OUTPUT, render  # noqa: E402 (after the path is set)


def main(argv: list[str]) -> int:
    target = ROOT / OUTPUT
    text = render()
    current = target.read_text(encoding="utf-8") if target.exists() else None
    if "--check" in argv:
        if current != text:
            print(f"{OUTPUT} is missing or stale: run scripts/gen_protocol.py", file=sys.stderr)
            return 1
        return 0
    if current != text:  # unchanged files keep their time, so the bundle is not rebuilt
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
