"""Checking and trimming one schema's audit chain (shared/audit.py): `python -m tools.audit`.

`verify` walks the rows in order from the anchor (the last purged row, or the start) and
names the first one that breaks the chain: a row whose content no longer gives its hash
(changed), a gap in the numbering or a link to a row that is not there (deleted), a row the
next one skips over or one beyond the chain's head (inserted). It reads the head and the
rows in one snapshot, so writers going on meanwhile are no problem.

`purge` deletes the oldest rows, up to the last one older than the keeping time, once the
part it deletes has verified; it records the last deleted row's number and hash as the
chain's anchor, so what is kept still verifies, and writes a row saying what it purged.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.audit import COLUMNS, Entry, command_line, record, row_hash
from shared.rpc import Actor

BATCH = 5000  # rows read at once while verifying
MIN_KEEP_DAYS = 180  # six months: PIPL practice and 等保 level 3 (docs/audit.md)


class AuditSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ZC_AUDIT_", extra="ignore")

    keep_days: int = Field(
        MIN_KEEP_DAYS,
        ge=MIN_KEEP_DAYS,
        description="Days audit rows are kept before `tools.audit purge` may delete them"
        " (at least 180).",
    )


@dataclass(frozen=True)
class Break:
    """Where the chain first goes wrong."""

    seq: int
    kind: str  # changed, deleted or inserted
    message: str


@dataclass(frozen=True)
class Report:
    rows: int
    anchor_seq: int
    head_seq: int
    head_hash: str
    problem: Break | None

    @property
    def intact(self) -> bool:
        return self.problem is None


class _Walk:
    """The state of a walk along the chain: what the next row must link to."""

    def __init__(self, head) -> None:
        self.head_seq = head["last_seq"]
        self.anchor_seq = head["anchor_seq"]
        self.last_seq = head["anchor_seq"]
        self.last_hash = head["anchor_hash"]
        self.last_link: str | None = None  # what the last row linked to
        self.rows = 0

    def check(self, row) -> Break | None:
        seq = row["seq"]
        if seq <= self.anchor_seq:
            return Break(seq, "inserted", f"第 {seq} 条在已清理的范围内（锚点 {self.anchor_seq}）")
        if seq > self.head_seq:
            return Break(seq, "inserted", f"第 {seq} 条在链头（第 {self.head_seq} 条）之后")
        if row["prev_hash"] != self.last_hash:
            return self._unlinked(row)
        if row_hash(row) != row["hash"]:
            return Break(seq, "changed", f"第 {seq} 条的内容与其哈希不符：已被修改")
        self.last_link, self.last_hash, self.last_seq = row["prev_hash"], row["hash"], seq
        self.rows += 1
        return None

    def _unlinked(self, row) -> Break:
        seq = row["seq"]
        if self.last_link is not None and row["prev_hash"] == self.last_link:
            return Break(
                self.last_seq, "inserted", f"第 {self.last_seq} 条是插入的：下一条越过了它"
            )
        if seq > self.last_seq + 1:
            return Break(
                self.last_seq + 1, "deleted", f"{_span(self.last_seq + 1, seq - 1)}已被删除"
            )
        return Break(
            seq,
            "deleted",
            f"第 {seq} 条没有接上第 {self.last_seq} 条：其间有记录被删除或修改后重新编号",
        )

    def end(self, head_hash: str) -> Break | None:
        if self.last_seq < self.head_seq:
            first = self.last_seq + 1
            return Break(
                first, "deleted", f"第 {first} 条至第 {self.head_seq} 条（最新的）已被删除"
            )
        if self.last_hash != head_hash:
            return Break(self.last_seq, "changed", f"第 {self.last_seq} 条与链头记录的哈希不符")
        return None


def _span(first: int, last: int) -> str:
    return f"第 {first} 条" if first == last else f"第 {first} 条至第 {last} 条"


async def verify(conn) -> Report:
    """Walk this schema's chain (the connection's search_path) in one snapshot."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        head = await conn.fetchrow("SELECT * FROM audit_chain")
        walk = _Walk(head)
        problem = await _walk_rows(conn, walk)
        problem = problem or walk.end(head["last_hash"])
    return Report(walk.rows, head["anchor_seq"], head["last_seq"], head["last_hash"], problem)


async def _walk_rows(conn, walk: _Walk) -> Break | None:
    after = None
    while True:
        rows = await conn.fetch(
            f"SELECT {', '.join(COLUMNS)} FROM audit_log"
            " WHERE $1::bigint IS NULL OR seq > $1 ORDER BY seq LIMIT $2",
            after,
            BATCH,
        )
        for row in rows:
            if (problem := walk.check(row)) is not None:
                return problem
        if len(rows) < BATCH:
            return None
        after = rows[-1]["seq"]


@dataclass(frozen=True)
class Purged:
    rows: int
    through_seq: int  # the new anchor
    cutoff: datetime


class ChainBroken(Exception):
    def __init__(self, problem: Break) -> None:
        super().__init__(problem.message)
        self.problem = problem


async def purge(conn, keep_days: int, now: datetime, actor: Actor | None = None) -> Purged:
    """Delete the rows older than `keep_days` from the start of the chain, keep the chain
    verifiable (the new anchor), and record the purge. Refuses a chain that does not
    verify up to there: deleting would hide what was done to it."""
    if keep_days < MIN_KEEP_DAYS:
        raise ValueError(f"audit rows are kept at least {MIN_KEEP_DAYS} days, not {keep_days}")
    cutoff = now - timedelta(days=keep_days)
    report = await verify(conn)
    async with conn.transaction():
        head = await conn.fetchrow("SELECT * FROM audit_chain FOR UPDATE")
        first_kept = await conn.fetchval("SELECT min(seq) FROM audit_log WHERE at >= $1", cutoff)
        through = head["last_seq"] if first_kept is None else first_kept - 1
        if through <= head["anchor_seq"]:
            return Purged(0, head["anchor_seq"], cutoff)
        if report.problem is not None and report.problem.seq <= through:
            raise ChainBroken(report.problem)
        deleted, anchor_hash = await _delete_through(conn, head["anchor_seq"], through)
        await conn.execute(
            "UPDATE audit_chain SET anchor_seq = $1, anchor_hash = $2, purged_at = $3",
            through,
            anchor_hash,
            now,
        )
        details = {
            "through_seq": through,
            "rows": deleted,
            "keep_days": keep_days,
            "cutoff": cutoff.isoformat(),
        }
        entry = Entry("audit.purge", "audit_log", details=details)
        await record(conn, actor or command_line("tools.audit purge"), entry, at=now)
    return Purged(deleted, through, cutoff)


async def _delete_through(conn, anchor_seq: int, through: int) -> tuple[int, str]:
    """Delete the rows after the anchor up to `through`; (how many, the hash of the last)."""
    last_hash = await conn.fetchval("SELECT hash FROM audit_log WHERE seq = $1", through)
    await conn.execute("SET LOCAL zc.audit_purge = 'on'")  # the trigger lets this DELETE by
    status = await conn.execute(
        "DELETE FROM audit_log WHERE seq > $1 AND seq <= $2", anchor_seq, through
    )
    await conn.execute("SET LOCAL zc.audit_purge = 'off'")
    return int(status.split()[-1]), last_hash
