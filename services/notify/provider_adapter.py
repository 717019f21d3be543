"""The base of the real SMS provider adapters (Alibaba Cloud, Tencent Cloud).

An adapter process consumes its route's queue (services/notify/adapter.py), sends each SMS
as its provider's approved template with the out-id as the provider's client-side id
(Alibaba `OutId`, Tencent `SessionContext`), and reports to notify:

- `sent` when the provider accepted it (with the provider's id: BizId, SerialNo), later
  `delivered` or `failed` with the provider's code when its delivery report comes;
- `failed` with the class of the provider's refusal, from the provider's table
  (`classify`): permanent (an invalid or blacklisted number, an unapproved template or
  signature: never retried), throttled (retried by notify once the window is over), or
  transient (a 5xx, no connection, the account: retried with backoff, then on the other
  provider);
- `unsettled` when nobody can tell yet whether it went out (the call timed out).

Exactly once per out-id. Before the provider is called the out-id is claimed in
`notify.provider_sends` (its primary key), committed; the outcome is recorded there after the
call. A copy of an out-id (redelivered, reconciled, or sent by notify twice) finds the record:

- accepted: answered with a receipt only (`duplicate`), the report if known;
- refused: answered with the same failure, never sent;
- claimed with no outcome (its adapter died during the call, or the call timed out): asked
  about at the provider by its out-id once `sms_lookup_after_seconds` have passed since the
  claim, so the call it waits for is over. Found: a receipt only. Not found: where the
  provider's answer can be trusted (Alibaba's QuerySendDetails lists every SMS it accepted;
  after `sms_aliyun_not_found_after_seconds`) it is claimed again and sent; where it cannot
  (Tencent Cloud can be asked only for status reports, which may come late) it stays
  `unsettled`, for the report query and, in the end, an operator (sms.unsettled).

The same record drives the report collection, a loop in every adapter process sharing the
work with `FOR UPDATE SKIP LOCKED`: Tencent's PullSmsSendStatus hands over reports in bulk;
every SMS accepted without a report for `sms_report_check_after_seconds`, and every claim
left without an outcome, is asked about by the provider's query (QuerySendDetails,
PullSmsSendStatusByPhoneNumber) at doubling intervals, until `sms_report_give_up_hours`.

Credentials never leave the process's memory: every log record of the process and every
text that goes into a receipt is stripped of them (`Redactor`).
"""

import asyncio
import logging
import os
import re
import socket
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Literal

from services.notify.adapter import OutboundSms, Outcome, ProviderAdapter
from services.notify.sealed import SEND_MOBILE, opened, sealed
from services.notify.settings import SmsAdapterSettings
from services.notify.templates import TEMPLATES
from shared.clock import SHENZHEN
from shared.db import create_pool
from shared.masks import mask_mobile
from shared.migrations import migrate_service
from shared.settings import Settings

log = logging.getLogger(__name__)

ErrorClass = Literal["permanent", "throttled", "transient"]
CHECK_LEASE = timedelta(seconds=60)  # a report check taken by one process, for this long
CHECK_BATCH = 100


class ConfigurationError(Exception):
    """The adapter cannot start: a credential, the SdkAppId or a template id is missing."""


class ProviderError(Exception):
    """A query could not be made (the provider unreachable or refusing it)."""


@dataclass(frozen=True)
class Refusal:
    """How one of a provider's codes is taken (the tables in aliyun_sms.py, tencent_sms.py)."""

    error_class: ErrorClass
    window: str | None = None  # throttled: a key of sms_throttle_windows, or "day"


@dataclass(frozen=True)
class SendResult:
    """What the provider answered to a send."""

    accepted: bool = False
    ref: str | None = None  # its id of the SMS
    code: str | None = None
    message: str | None = None
    error_class: ErrorClass | None = None
    window: str | None = None
    retry_after: float | None = None  # seconds the provider said to wait
    unknown: bool = False  # no answer that says (a timeout): it may have gone out


@dataclass(frozen=True)
class Found:
    """What the provider's query knows of one out-id."""

    ref: str | None
    report: Literal["delivered", "failed"] | None = None
    code: str | None = None


@dataclass(frozen=True)
class Report:
    """A delivery report handed over in bulk (Tencent's PullSmsSendStatus)."""

    ref: str | None
    out_id: str | None
    status: Literal["delivered", "failed"]
    code: str | None


class ProviderApi:
    """One provider's calls through its SDK. Synchronous (the SDKs are): the adapter runs
    them in threads of its own."""

    name = "provider"
    pulls_reports = False  # has a bulk report call (pull_reports)
    pull_limit = 100

    def template_id(self, key: str | None) -> str | None:
        raise NotImplementedError

    def secrets(self) -> list[str]:
        """Every credential, to be kept out of logs and texts."""
        raise NotImplementedError

    def not_found_trusted_after(self) -> float | None:
        """Seconds after a claim from which the query's "not found" means "never got it";
        None: never."""
        raise NotImplementedError

    def send(
        self, mobile: str, out_id: str, template_id: str, params: list[tuple[str, str]]
    ) -> SendResult:
        raise NotImplementedError

    def lookup(self, mobile: str, out_id: str, ref: str | None, since: datetime) -> Found | None:
        """Ask the provider about one out-id; None: it has no record of it. ProviderError
        when it cannot be asked."""
        raise NotImplementedError

    def pull_reports(self) -> list[Report]:
        return []


MOBILE_IN_TEXT = re.compile(r"(?<!\d)(\+?86)?(1[3-9]\d{9})(?!\d)")


class Redactor:
    """Keeps the credentials out of every log line of the process and of given texts, and
    masks a mobile a provider's message may quote."""

    _secrets: set[str] = set()
    _installed = False

    @classmethod
    def add(cls, secrets: list[str]) -> None:
        cls._secrets |= {s for s in secrets if s and len(s) >= 4}
        if not cls._installed:
            cls._installed = True
            previous = logging.getLogRecordFactory()

            def factory(*args, **kwargs):
                record = previous(*args, **kwargs)
                if cls._secrets:
                    cls._scrub(record)
                return record

            logging.setLogRecordFactory(factory)

    @classmethod
    def _scrub(cls, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # a bad format: leave it to the handler to complain
            return
        clean = cls.text(message)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = cls.text(logging.Formatter().formatException(record.exc_info))

    @classmethod
    def text(cls, text: str | None) -> str | None:
        if not text:
            return text
        for secret in cls._secrets:
            if secret in text:
                text = text.replace(secret, "***")
        return MOBILE_IN_TEXT.sub(lambda m: (m.group(1) or "") + mask_mobile(m.group(2)), text)


def until_midnight(now: datetime) -> float:
    """Seconds until the next midnight in Shenzhen: when a day's limit is over."""
    local = now.astimezone(SHENZHEN)
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return (midnight - local).total_seconds()


class SmsProviderAdapter(ProviderAdapter):
    """A real provider's adapter: one out-id sent once, reports collected (module doc)."""

    def __init__(
        self,
        settings: Settings,
        api: ProviderApi,
        adapter_settings: SmsAdapterSettings | None = None,
        route: str = "primary",
    ) -> None:
        self.adapter_settings = adapter_settings or SmsAdapterSettings()
        super().__init__(settings, self.adapter_settings.sms_provider_prefetch, route)
        self.api = api
        self.name = f"sms-{api.name}"
        self.provider_name = api.name
        self.instance = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.requests = 0  # send calls made to the provider
        self.pool = None
        self._executor = ThreadPoolExecutor(
            self.adapter_settings.sms_provider_concurrency, thread_name_prefix=self.name
        )
        self._in_flight: dict[str, asyncio.Future] = {}
        self._reports: asyncio.Task | None = None
        self._pull_failing = False
        Redactor.add(api.secrets())

    # --- running -----------------------------------------------------------------------

    async def start(self) -> None:
        await migrate_service(self.settings.database_url, "notify", "notify")
        self.pool = await create_pool(
            self.settings.database_url,
            "notify",
            max_size=max(4, self.adapter_settings.sms_provider_concurrency // 2),
        )
        await super().start()
        self._reports = asyncio.create_task(self._collect_reports_forever())
        log.info("%s: consuming the %s route", self.name, self.route)

    async def close(self) -> None:
        if self._reports is not None:
            self._reports.cancel()
            await asyncio.gather(self._reports, return_exceptions=True)
        await super().close()
        if self.pool is not None:
            await self.pool.close()
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def _call(self, function, *args):
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)

    # --- sending -----------------------------------------------------------------------

    async def deliver(self, sms: OutboundSms) -> Outcome:
        template = TEMPLATES.get(sms.template or "")
        template_id = self.api.template_id(sms.template)
        if template is None or template_id is None:
            return Outcome(
                "failed",
                f"no {self.api.name} template configured for {sms.template}",
                code="TemplateNotConfigured",
                error_class="permanent",
            )
        params = sms.params or {}
        missing = [p for p in template.params if p not in params]
        if missing:
            return Outcome(
                "failed",
                f"parameters missing for {sms.template}: {', '.join(missing)}",
                code="TemplateParamsMissing",
                error_class="permanent",
            )
        ordered = [(name, params[name]) for name in template.params]
        waiting = self._in_flight.get(sms.out_id)
        if waiting is not None:  # another copy is being sent by this process right now
            return _as_copy(await asyncio.shield(waiting))
        now = datetime.now(UTC)
        row = await self._claim(sms, now)
        if row is None:
            return await self._send_claimed(sms, template_id, ordered, now)
        return await self._copy(sms, row, template_id, ordered)

    async def _claim(self, sms: OutboundSms, now: datetime):
        """None when this call claimed the out-id; else the record another copy made."""
        lookup_at = now + timedelta(seconds=self.adapter_settings.sms_lookup_after_seconds)
        claimed = await self.pool.fetchval(
            "INSERT INTO provider_sends (out_id, provider, delivery_id, attempt, mobile, state,"
            " claimed_at, claimed_by, next_check_at) VALUES ($1, $2, $3, $4, $5, 'claimed', $6,"
            " $7, $8) ON CONFLICT (out_id) DO NOTHING RETURNING true",
            sms.out_id,
            self.api.name,
            uuid.UUID(sms.delivery_id),
            sms.attempt,
            sealed(sms.mobile, SEND_MOBILE),
            now,
            self.instance,
            lookup_at,
        )
        if claimed:
            return None
        return await self.pool.fetchrow(
            "SELECT * FROM provider_sends WHERE out_id = $1", sms.out_id
        )

    async def _send_claimed(self, sms, template_id, ordered, claimed_at) -> Outcome:
        future = asyncio.get_running_loop().create_future()
        self._in_flight[sms.out_id] = future
        try:
            self.requests += 1
            try:
                result = await self._call(
                    self.api.send, sms.mobile, sms.out_id, template_id, ordered
                )
            except Exception as error:  # an SDK surprise: whether it went out is unknown
                log.exception("%s: %s: send raised", self.name, sms.out_id)
                result = SendResult(unknown=True, message=f"{type(error).__name__}: {error}")
            outcome = await self._record_send(sms.out_id, result, claimed_at)
            future.set_result(outcome)
            return outcome
        except BaseException as error:
            if not future.done():
                future.set_exception(error)
                future.exception()  # retrieved: a copy waiting on it gets it, none may
            raise
        finally:
            self._in_flight.pop(sms.out_id, None)

    async def _record_send(self, out_id: str, result: SendResult, claimed_at) -> Outcome:
        now = datetime.now(UTC)
        message = Redactor.text(result.message)
        if result.accepted:
            check_at = now + timedelta(seconds=self.adapter_settings.sms_report_check_after_seconds)
            updated = await self.pool.fetchval(
                "UPDATE provider_sends SET state = 'accepted', provider_ref = $2, settled_at = $3,"
                " next_check_at = CASE WHEN report IS NULL THEN $4::timestamptz END, checks = 0"
                " WHERE out_id = $1 AND state IN ('claimed', 'unknown') RETURNING true",
                out_id,
                result.ref,
                now,
                check_at,
            )
            if not updated:
                await self._late(out_id, "accepted")
            return Outcome("sent", ref=result.ref, code=result.code)
        if result.unknown:
            lookup_at = claimed_at + timedelta(
                seconds=self.adapter_settings.sms_lookup_after_seconds
            )
            marked = await self.pool.fetchval(
                "UPDATE provider_sends SET state = 'unknown', detail = $2, next_check_at = $3"
                " WHERE out_id = $1 AND state = 'claimed' RETURNING true",
                out_id,
                message,
                lookup_at,
            )
            if not marked:  # its report came meanwhile: the provider had it
                row = await self.pool.fetchrow(
                    "SELECT * FROM provider_sends WHERE out_id = $1", out_id
                )
                if row is not None and row["state"] == "accepted":
                    return replace(_from_accepted(row), duplicate=False)
            log.warning("%s: %s: no answer (%s): asked about later", self.name, out_id, message)
            return Outcome(
                "unsettled",
                f"no answer from {self.api.name} ({message}); it is asked about from"
                f" {lookup_at.isoformat(timespec='seconds')}",
                error_class="transient",
            )
        retry_after = None
        if result.error_class == "throttled":
            retry_after = self._window(result, now)
        updated = await self.pool.fetchval(
            "UPDATE provider_sends SET state = 'refused', code = $2, error_class = $3,"
            " retry_after = $4, detail = $5, settled_at = $6, next_check_at = NULL"
            " WHERE out_id = $1 AND state IN ('claimed', 'unknown') RETURNING true",
            out_id,
            result.code,
            result.error_class,
            retry_after,
            message,
            now,
        )
        if not updated:
            await self._late(out_id, "refused")
        level = logging.ERROR if result.code and _operator_must_act(result) else logging.INFO
        log.log(level, "%s: %s refused: %s %s", self.name, out_id, result.code, message)
        return Outcome(
            "failed",
            message,
            code=result.code,
            error_class=result.error_class,
            retry_after=retry_after,
        )

    async def _late(self, out_id: str, what: str) -> None:
        row = await self.pool.fetchrow("SELECT * FROM provider_sends WHERE out_id = $1", out_id)
        if row is not None and row["state"] == "accepted" and what == "accepted":
            return  # a report (or a query) recorded its acceptance first
        log.error(
            "%s: %s %s after it was settled otherwise (%s): it may have gone out twice",
            self.name,
            out_id,
            what,
            row["state"] if row else "no record",
        )

    def _window(self, result: SendResult, now: datetime) -> float:
        if result.window == "day":
            wait = until_midnight(now)
        else:
            windows = self.adapter_settings.sms_throttle_windows
            wait = windows.get(result.window or "minute", windows.get("minute", 60.0))
        return max(wait, result.retry_after or 0.0)

    async def _copy(self, sms: OutboundSms, row, template_id, ordered) -> Outcome:
        """Another copy of an out-id already claimed: answer from the record or the query."""
        state = row["state"]
        if state == "accepted":
            return _from_accepted(row)
        if state == "refused":
            return Outcome(
                "failed",
                row["detail"],
                code=row["code"],
                error_class=row["error_class"],
                retry_after=row["retry_after"],
            )
        now = datetime.now(UTC)
        age = (now - row["claimed_at"]).total_seconds()
        if age < self.adapter_settings.sms_lookup_after_seconds:
            return Outcome(
                "unsettled",
                f"{sms.out_id} was claimed {age:.0f}s ago and its outcome is not known yet;"
                f" {self.api.name} is asked about it later",
                error_class="transient",
            )
        try:
            outcome = await self._settle_by_query(row, now)
        except ProviderError as error:
            return Outcome(
                "unsettled",
                f"{self.api.name} could not be asked about {sms.out_id}: {error}",
                error_class="transient",
            )
        if outcome is not None:
            return _as_copy(outcome)
        trusted = self.api.not_found_trusted_after()
        if trusted is not None and age >= trusted:
            # It never reached the provider: send it now, once (compare-and-set).
            again = await self.pool.fetchval(
                "UPDATE provider_sends SET state = 'claimed', claimed_at = $3, claimed_by = $4,"
                " next_check_at = $5, checks = 0, detail = $6 WHERE out_id = $1"
                " AND state = $2 AND claimed_at = $7 RETURNING true",
                sms.out_id,
                state,
                now,
                self.instance,
                now + timedelta(seconds=self.adapter_settings.sms_lookup_after_seconds),
                f"{self.api.name} had no record of it {age:.0f}s after its claim: sent again",
                row["claimed_at"],
            )
            if again:
                log.warning(
                    "%s: %s: %s has no record of it %.0fs after its claim: sending it",
                    self.name,
                    sms.out_id,
                    self.api.name,
                    age,
                )
                return await self._send_claimed(sms, template_id, ordered, now)
        return Outcome(
            "unsettled",
            f"{self.api.name} has no record of {sms.out_id} {age:.0f}s after its claim, which"
            " does not prove it never went out: not sent again; see sms.unsettled",
            error_class="transient",
        )

    async def _settle_by_query(self, row, now: datetime) -> Outcome | None:
        """Ask the provider about a claim with no outcome; record what it knows."""
        found = await self._call(
            self.api.lookup,
            opened(row["mobile"], SEND_MOBILE),
            row["out_id"],
            row["provider_ref"],
            row["claimed_at"],
        )
        if found is None:
            return None
        return await self._accept_found(row, found, now)

    async def _accept_found(self, row, found: Found, now: datetime) -> Outcome | None:
        """The provider has it: record it accepted (and its report, if any)."""
        check_at = now + timedelta(seconds=self.adapter_settings.sms_report_check_after_seconds)
        updated = await self.pool.fetchrow(
            "UPDATE provider_sends SET state = 'accepted', provider_ref = COALESCE($2,"
            " provider_ref), settled_at = $3, report = COALESCE(report, $4), report_code ="
            " COALESCE(report_code, $5::text), reported_at = CASE WHEN $4::text IS NULL THEN"
            " reported_at ELSE $3 END, next_check_at = CASE WHEN COALESCE(report, $4) IS NULL"
            " THEN $6::timestamptz END, checks = 0, detail = 'found by the query' WHERE out_id = $1"
            " AND state IN ('claimed', 'unknown') RETURNING *",
            row["out_id"],
            found.ref,
            now,
            found.report,
            found.code,
            check_at,
        )
        log.info("%s: %s found at %s by its out-id", self.name, row["out_id"], self.api.name)
        if updated is None:  # settled meanwhile by someone else
            current = await self.pool.fetchrow(
                "SELECT * FROM provider_sends WHERE out_id = $1", row["out_id"]
            )
            return _from_accepted(current) if current["state"] == "accepted" else None
        return _from_accepted(updated)

    # --- reports -----------------------------------------------------------------------

    async def _collect_reports_forever(self) -> None:
        while True:
            try:
                await self.collect_reports()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s: report round failed; the next one tries again", self.name)
            await asyncio.sleep(self.adapter_settings.sms_report_poll_interval)

    async def collect_reports(self) -> int:
        """One round: reports in bulk, then the queries that are due; returns receipts sent."""
        sent = 0
        if self.api.pulls_reports:
            while True:
                try:
                    reports = await self._call(self.api.pull_reports)
                except ProviderError as error:
                    # Said once, not every round, while the provider stays away.
                    level = logging.DEBUG if self._pull_failing else logging.WARNING
                    log.log(level, "%s: reports could not be pulled: %s", self.name, error)
                    self._pull_failing = True
                    break
                if self._pull_failing:
                    log.warning("%s: reports are pulled again", self.name)
                    self._pull_failing = False
                for report in reports:
                    sent += await self._apply_report(report)
                if len(reports) < self.api.pull_limit:
                    break
        while True:  # batch after batch while they come full: the checks keep up with the sends
            now = datetime.now(UTC)
            rows = await self.pool.fetch(
                "UPDATE provider_sends SET next_check_at = $3, checks = checks + 1 WHERE out_id"
                " IN (SELECT out_id FROM provider_sends WHERE provider = $1 AND next_check_at"
                " <= $2 ORDER BY next_check_at LIMIT $4 FOR UPDATE SKIP LOCKED) RETURNING *",
                self.api.name,
                now,
                now + CHECK_LEASE,
                CHECK_BATCH,
            )
            sent += sum(await asyncio.gather(*(self._check(row, now) for row in rows)))
            if len(rows) < CHECK_BATCH:
                return sent

    async def _apply_report(self, report: Report) -> int:
        row = None
        if report.ref:
            row = await self.pool.fetchrow(
                "SELECT * FROM provider_sends WHERE provider = $1 AND provider_ref = $2",
                self.api.name,
                report.ref,
            )
        if row is None and report.out_id:
            row = await self.pool.fetchrow(
                "SELECT * FROM provider_sends WHERE out_id = $1", report.out_id
            )
        if row is None:
            log.info("%s: report of %s matches no SMS of ours", self.name, report.ref)
            return 0
        return await self._record_report(row, Found(report.ref, report.status, report.code))

    async def _record_report(self, row, found: Found) -> int:
        """Tell notify, then record it: a receipt lost with a broker away is told again by
        the next query (the record still waits for its report); one told twice is ignored."""
        if row["report"] is not None or row["state"] == "refused":
            return 0
        reported = {
            **dict(row),
            "provider_ref": row["provider_ref"] or found.ref,
            "report": found.report,
            "report_code": found.code,
        }
        await self.report(str(row["delivery_id"]), row["attempt"], row["out_id"], _report(reported))
        now = datetime.now(UTC)
        await self.pool.execute(
            "UPDATE provider_sends SET state = 'accepted', provider_ref = COALESCE(provider_ref,"
            " $2), settled_at = COALESCE(settled_at, $5), report = $3, report_code = $4,"
            " reported_at = $5, next_check_at = NULL WHERE out_id = $1 AND report IS NULL"
            " AND state <> 'refused'",
            row["out_id"],
            found.ref,
            found.report,
            found.code,
            now,
        )
        return 1

    async def _check(self, row, now: datetime) -> int:
        """One due query: a report for an accepted SMS, or the fate of a claim."""
        settings = self.adapter_settings
        age = (now - row["claimed_at"]).total_seconds()
        try:
            found = await self._call(
                self.api.lookup,
                opened(row["mobile"], SEND_MOBILE),
                row["out_id"],
                row["provider_ref"],
                row["claimed_at"],
            )
        except ProviderError as error:
            log.warning("%s: %s could not be asked about: %s", self.name, row["out_id"], error)
            found = None
            error_seen = True
        else:
            error_seen = False
        if found is not None:
            if row["state"] == "accepted":
                if found.report is not None:
                    return await self._record_report(row, found)
            else:
                outcome = await self._accept_found(row, found, now)
                if outcome is not None:
                    current = await self.pool.fetchrow(
                        "SELECT * FROM provider_sends WHERE out_id = $1", row["out_id"]
                    )
                    await self.report(
                        str(current["delivery_id"]), current["attempt"], current["out_id"], outcome
                    )
                    return 1
        elif row["state"] != "accepted" and not error_seen:
            trusted = self.api.not_found_trusted_after()
            if trusted is not None and age >= trusted:
                return await self._never_got_it(row, age)
        if age >= settings.sms_report_give_up_hours * 3600:
            await self.pool.execute(
                "UPDATE provider_sends SET next_check_at = NULL WHERE out_id = $1", row["out_id"]
            )
            log.warning(
                "%s: %s: nothing known after %.0f hours: no longer asked about (sms.unsettled)",
                self.name,
                row["out_id"],
                age / 3600,
            )
            return 0
        wait = min(
            settings.sms_report_check_after_seconds * 2 ** row["checks"],
            settings.sms_report_check_max_interval,
        )
        await self.pool.execute(
            "UPDATE provider_sends SET next_check_at = $2 WHERE out_id = $1",
            row["out_id"],
            now + timedelta(seconds=wait),
        )
        return 0

    async def _never_got_it(self, row, age: float) -> int:
        """A claim the provider has no record of, long enough to be sure: notify's next
        attempt sends it (a new out-id)."""
        detail = (
            f"{self.api.name} has no record of {row['out_id']} {age:.0f}s after its claim:"
            " it never got it"
        )
        updated = await self.pool.fetchrow(
            "UPDATE provider_sends SET state = 'refused', error_class = 'transient', code ="
            " 'NotReceived', detail = $2, settled_at = now(), next_check_at = NULL"
            " WHERE out_id = $1 AND state IN ('claimed', 'unknown') AND claimed_at = $3"
            " RETURNING *",
            row["out_id"],
            detail,
            row["claimed_at"],
        )
        if updated is None:
            return 0
        log.warning("%s: %s", self.name, detail)
        await self.report(
            str(updated["delivery_id"]),
            updated["attempt"],
            updated["out_id"],
            Outcome("failed", detail, code="NotReceived", error_class="transient"),
        )
        return 1


def _from_accepted(row) -> Outcome:
    if row["report"] is not None:
        return replace(_report(row), duplicate=True)
    return Outcome("sent", duplicate=True, ref=row["provider_ref"])


def _report(row) -> Outcome:
    status = row["report"]
    error = None if status == "delivered" else f"delivery report {row['report_code']}"
    return Outcome(status, error, code=row["report_code"], ref=row["provider_ref"], report=True)


def _as_copy(outcome: Outcome) -> Outcome:
    if outcome.status in ("sent", "delivered"):
        return replace(outcome, duplicate=True)
    return outcome


def _operator_must_act(result: SendResult) -> bool:
    """Refusals that mean the configuration or the account is wrong, not the message."""
    code = (result.code or "").lower()
    words = ("sign", "template", "auth", "access", "account", "balance", "amount", "permission")
    return any(word in code for word in words)
