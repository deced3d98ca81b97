"""Rate limits counted in the database, so several app processes share them.

Each limit allows a burst of `count` requests, then one more every `period / count` seconds
(the generic cell rate algorithm: one integer per key, no window edge that lets twice the
count through). A request reserves its place with one conditional UPDATE before the work it
guards, and that reservation is committed at once: of many requests at the same moment,
exactly as many as the limit allows get through, on any number of instances.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from sqlalchemy import case, delete, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from wallet.errors import WalletError
from wallet.ratelimit.models import RateLimit

MICROS = 1_000_000


class RateLimited(WalletError):
    status_code = 429
    code = "rate_limited"
    described_headers: ClassVar[dict[str, str]] = {"Retry-After": "seconds to wait"}

    def __init__(self, what: str, retry_after: int) -> None:
        minutes = max(1, math.ceil(retry_after / 60))
        unit = "minute" if minutes == 1 else "minutes"
        super().__init__(
            f"Too many {what} in a short time. Wait {minutes} {unit}, then try again.",
            {"Retry-After": str(retry_after)},
        )
        self.retry_after = retry_after


@dataclass(frozen=True)
class Limit:
    """`count` requests at once, and `count` again over each `period_seconds`. 0: no limit."""

    key: str
    count: int
    period_seconds: int = 3600


def network_key(address: str) -> str:
    """One IPv4 address, or one IPv6 /64: a single IPv6 host can use a whole /64. An IPv4 client
    reported as IPv6 (a dual-stack listener, a proxy's ::ffff:a.b.c.d) is its IPv4 address, not
    one /64 shared by every IPv4 client."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:60]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def digest(value: str) -> str:
    """A fixed-length key part for a value the caller chose (a link id, a handle)."""
    return hashlib.sha256(value.encode()).hexdigest()[:40]


def _micros(moment: datetime) -> int:
    return int(moment.timestamp() * MICROS)


def _insert_if_missing(db: Session, key: str) -> None:
    insert = postgresql_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(RateLimit).values(key=key, tat=0)
    db.execute(statement.on_conflict_do_nothing(index_elements=["key"]))


def _allowance(limit: Limit) -> tuple[int, int]:
    """The interval between places, and how far ahead of now the tat may be for one more.
    That includes a little slack (at most a second, less than one interval): requests that
    arrive together read the clock in any order, and instances' clocks differ a little."""
    interval = max(1, limit.period_seconds * MICROS // limit.count)
    slack = min(MICROS, interval // 2)
    return interval, limit.period_seconds * MICROS - interval + slack


def _take(db: Session, limit: Limit, now: int) -> int | None:
    """Takes one place under `limit`; None if it has none left, else its new tat."""
    interval, burst = _allowance(limit)
    tat = col(RateLimit.tat)
    _insert_if_missing(db, limit.key)
    taken = db.execute(
        update(RateLimit)
        .where(col(RateLimit.key) == limit.key, tat <= now + burst)
        .values(tat=case((tat < now, now + interval), else_=tat + interval))
        .returning(tat)
        .execution_options(synchronize_session=False)
    ).first()
    return None if taken is None else int(taken[0])


def _wait_seconds(db: Session, limit: Limit, now: int) -> int:
    tat = db.execute(
        select(col(RateLimit.tat)).where(col(RateLimit.key) == limit.key)
    ).scalar_one_or_none()
    _interval, burst = _allowance(limit)
    if tat is None:
        return 1
    return max(1, math.ceil((tat - now - burst) / MICROS))


def take(db: Session, limits: list[Limit], what: str, now: datetime) -> None:
    """Reserves one request under every limit, or none: raises RateLimited (429, Retry-After)
    if any is spent. Commits, so call it first, before the work it guards."""
    moment = _micros(now)
    for limit in limits:
        if limit.count <= 0:
            continue
        if _take(db, limit, moment) is None:
            wait = _wait_seconds(db, limit, moment)
            db.rollback()  # nothing is reserved under any key when one of them is spent
            raise RateLimited(what, wait)
    db.commit()  # the request counts although it then fails or is cut off


def sweep_idle(db: Session, now: datetime) -> int:
    """For the sweeper: forgets keys back to a full burst (their row says nothing more)."""
    gone = db.execute(delete(RateLimit).where(col(RateLimit.tat) < _micros(now)))
    return int(getattr(gone, "rowcount", 0) or 0)
