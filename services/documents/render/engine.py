"""Documents rendered in the worker pool: forms whole, long rosters in parallel chunks."""

import asyncio
import logging
from collections.abc import Sequence

from services.documents.render import layout, worker
from services.documents.render.pool import RenderFailed, RenderPool
from services.documents.render.snapshots import KINDS
from services.documents.render.worker import PaginationMismatch, Pdf

log = logging.getLogger(__name__)


class DocumentRenderer:
    def __init__(self, pool: RenderPool, chunk_pages: int | None = None) -> None:
        self.pool = pool
        self.chunk_pages = chunk_pages or pool.settings.chunk_pages

    async def render(self, kind_key: str, snapshot) -> Pdf:
        """One document from its (validated) snapshot."""
        try:
            if not KINDS[kind_key].roster:
                return await self.pool.run(worker.render_document, kind_key, snapshot)
            return await self._roster(kind_key, snapshot)
        except RenderFailed:
            raise
        except Exception:
            log.exception("rendering %s failed", kind_key)
            raise RenderFailed("render_failed", "文档生成失败，请联系技术支持", 500) from None

    async def combine(self, parts: Sequence[bytes], labels: Sequence[str] | None = None) -> Pdf:
        """Several PDFs as one, in order (a bookmark per part when labelled)."""
        if len(parts) == 1 and not labels:
            return await self.pool.run(worker.merge, list(parts))
        return await self.pool.run(worker.merge, list(parts), list(labels) if labels else None)

    async def _roster(self, kind_key: str, roster) -> Pdf:
        plan = layout.plan_roster(kind_key, roster)
        try:
            return await self._render_plan(kind_key, roster, plan)
        except PaginationMismatch as mismatch:
            # The plan misjudged a row's height: a row more per page is worth a right folio.
            log.warning("%s: %s; planning again with taller rows", kind_key, mismatch)
            plan = layout.plan_roster(kind_key, roster, extra_lines=1)
            return await self._render_plan(kind_key, roster, plan)

    async def _render_plan(self, kind_key: str, roster, plan: layout.RosterPlan) -> Pdf:
        runs = layout.page_runs(plan.pages, self.pool.workers, self.chunk_pages)
        parts = await asyncio.gather(
            *(
                self.pool.run(worker.render_roster_pages, kind_key, roster, plan, first, count)
                for first, count in runs
            )
        )
        if len(parts) == 1:
            return parts[0]
        return await self.pool.run(worker.merge, [p.content for p in parts])
