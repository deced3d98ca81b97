from sqlalchemy import BigInteger, Column
from sqlmodel import Field, SQLModel


class RateLimit(SQLModel, table=True):
    """One key's budget (GCRA): `tat` is the time, in microseconds since the epoch, at which
    the key would be back to a full burst. Integers, so one UPDATE does the arithmetic on
    SQLite and PostgreSQL alike."""

    __tablename__ = "rate_limit"

    key: str = Field(primary_key=True, max_length=100)
    tat: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, index=True))
