"""One coarse word for the device a login came from, so the owner's journal can say "you
logged in on a phone" or "on a public computer". Never the address or the full User-Agent:
the journal keeps what helps the owner recognise their own logins, nothing more."""

from __future__ import annotations

# The kiosk page's cookie (web/pages_kiosk.py KIOSK_COOKIE; web sits above this package).
KIOSK_COOKIE = "wallet_kiosk"
DEVICES = ("kiosk", "phone", "tablet", "computer", "app")


def device_of(user_agent: str | None, kiosk_cookie: str | None = None) -> str | None:
    """kiosk, phone, tablet, computer (a web browser), app (the wallet program), or None."""
    if kiosk_cookie == "1":
        return "kiosk"
    agent = (user_agent or "").lower()
    if not agent:
        return None
    if "mozilla/" not in agent:
        return "app"  # the Python client and CLI (httpx), or another program
    if "ipad" in agent or "tablet" in agent:
        return "tablet"
    if "mobi" in agent or "android" in agent or "iphone" in agent:
        return "phone"
    return "computer"
