"""The notify service: SMS codes on request, workflow notices from events, receipts.

Its dispatcher loop sends due deliveries and reconciles those left `sending` by a process
that died between a publish and its record (services/notify/deliveries.py).
"""

import asyncio
import json
import logging
import time
import uuid
from dataclasses import dataclass, field

from faststream.middlewares import AckPolicy
from faststream.rabbit import RabbitQueue

from services.notify.deliveries import (
    DELIVERIES_CHANNEL,
    Receipt,
    apply_receipt,
    dispatch_due,
    reconcile_due,
)
from services.notify.handlers import (
    codes,
    experts,
    exports,
    notices,
    objections,
    operator,
    personal,
    reminders,
    security,
)
from services.notify.settings import NotifySettings
from services.notify.sms_gateway import SmsGateway
from shared.clock import Clock
from shared.consumer import EventConsumer
from shared.contracts.accounts.events import (
    ACCOUNT_LOCKED,
    DEADLINE_REMINDER_ADDRESSED,
    EXPERT_ACCOUNT_OPENED,
)
from shared.contracts.cases.events import CASE_APPLICANT_NOTICE, CASE_TRANSITIONED
from shared.contracts.cases.integrity import OBJECTION_FOUND
from shared.contracts.cases.meetings import EXPERT_REPLACED, MEETING_DRAWN
from shared.contracts.notify import rpc as contract
from shared.rpc import RpcClient, RpcRouter
from shared.service import Service
from shared.settings import Settings
from shared.topology import Names
from shared.wakeup import Wakeup

log = logging.getLogger(__name__)


@dataclass
class NotifyDeps:
    settings: NotifySettings = field(default_factory=NotifySettings)
    clock: Clock = field(default_factory=Clock)
    gateway: SmsGateway | None = None
    dispatcher: asyncio.Task | None = None
    # Set at a stop: the dispatcher ends after the round under way (if any) instead of
    # being cut in the middle, which would leave its batch 'sending' for the reconciler.
    stopping: bool = False
    in_round: bool = False
    # Deliveries this process is publishing right now: its reconciler leaves them alone.
    in_flight: set[uuid.UUID] = field(default_factory=set)
    peers: RpcClient | None = None  # documents: an export's progress and file (导出Excel)


def build_rpc(deps: NotifyDeps) -> RpcRouter:
    rpc = RpcRouter("notify", deps=deps)
    rpc.serve(contract.SMS_SEND_CODE, codes.send_code)
    rpc.serve(contract.SMS_DELIVERY_STATUS, codes.delivery_status)
    rpc.serve(contract.SMS_UNSETTLED, operator.unsettled)
    rpc.serve(contract.PERSONAL_UNMASK, personal.unmask)
    rpc.serve(contract.EXPORT_COUNT, exports.count)
    rpc.serve(contract.EXPORT_BUILD, exports.build_export)
    return rpc


def build_events(deps: NotifyDeps) -> EventConsumer:
    events = EventConsumer("notify")
    notice = CASE_APPLICANT_NOTICE
    events.on(notice.type, notice.payload)(notices.notice_handler(deps))
    locked = ACCOUNT_LOCKED
    events.on(locked.type, locked.payload)(security.account_locked_handler(deps))
    found = OBJECTION_FOUND
    events.on(found.type, found.payload)(objections.objection_found_handler(deps))
    for seated in (MEETING_DRAWN, EXPERT_REPLACED):
        events.on(seated.type, seated.payload)(experts.drawn_handler(deps))
    opened = EXPERT_ACCOUNT_OPENED
    events.on(opened.type, opened.payload)(experts.account_opened_handler(deps))
    reminder = DEADLINE_REMINDER_ADDRESSED
    events.on(reminder.type, reminder.payload)(reminders.reminder_handler(deps))
    # Consumed until the applicant notices had an event of their own: unbound at start, and
    # what is still queued is acknowledged without effect.
    events.retire(CASE_TRANSITIONED.type)
    return events


def build_service(settings: Settings | None = None, deps: NotifyDeps | None = None) -> Service:
    deps = deps or NotifyDeps()

    async def start(service: Service) -> None:
        deps.stopping = False
        deps.gateway = SmsGateway(
            service.settings, fallback=bool(deps.settings.sms_fallback_provider)
        )
        await deps.gateway.start()
        if deps.peers is None:
            deps.peers = RpcClient(
                service.settings.amqp_url,
                Names(service.settings).rpc_queue,
                service.settings.rpc_timeout,
            )
            await deps.peers.start()
        deps.dispatcher = asyncio.create_task(_dispatch_forever(service, deps))

    async def stop(service: Service) -> None:
        if deps.dispatcher is not None:
            deps.stopping = True
            if deps.in_round:
                await asyncio.wait({deps.dispatcher}, timeout=service.settings.stop_grace)
            deps.dispatcher.cancel()
            await asyncio.gather(deps.dispatcher, return_exceptions=True)
        if deps.gateway is not None:
            await deps.gateway.close()
        if deps.peers is not None:
            await deps.peers.close()
            deps.peers = None

    def subscribe(service: Service) -> None:
        from services.notify.provider import receipts_queue

        @service.broker.subscriber(
            RabbitQueue(receipts_queue(service.settings), durable=True),
            ack_policy=AckPolicy.NACK_ON_ERROR,
            no_reply=True,
        )
        async def on_receipt(_body) -> None:
            message = service.broker.context.get_local("message")
            await _apply_receipt(service, deps, message.body)

    return Service(
        "notify",
        build_rpc(deps),
        build_events(deps),
        settings=settings,
        on_start=[start],
        on_stop=[stop],
        subscribe=[subscribe],
    )


async def _apply_receipt(service: Service, deps: NotifyDeps, body: bytes) -> None:
    try:
        receipt = Receipt.of(json.loads(body))
    except (ValueError, KeyError, TypeError, AttributeError):
        log.error("unreadable SMS receipt dropped: %r", body[:200])
        return
    async with service.pool.acquire() as conn, conn.transaction():
        await apply_receipt(
            conn,
            receipt.delivery_id,
            receipt.attempt,
            receipt.status,
            receipt.error,
            deps.clock.now(),
            deps.settings,
            receipt.duplicate,
            provider=receipt.provider,
            code=receipt.code,
            error_class=receipt.error_class,
            retry_after=receipt.retry_after,
            ref=receipt.ref,
            report=receipt.report,
        )


async def _dispatch_forever(service: Service, deps: NotifyDeps) -> None:
    # Woken by the NOTIFY of each new delivery's commit (deliveries.create_delivery), so a
    # notice leaves at once; the interval is the poll for retries that fall due. A full batch
    # is followed by the next one at once: the batch size must not cap the rate.
    wakeup = Wakeup(service.settings.database_url, DELIVERIES_CHANNEL)
    reconciled = 0.0  # when the reconciler last ran: once per interval, not at every wake
    try:
        while not deps.stopping:
            taken, began = 0, time.monotonic()
            try:
                if deps.settings.sms_dispatch_on_commit:
                    await wakeup.listen()
                deps.in_round = True
                args = (service.pool, deps.gateway)
                taken = await dispatch_due(*args, deps.clock.now(), deps.settings, deps.in_flight)
                if time.monotonic() - reconciled >= deps.settings.sms_dispatch_interval:
                    reconciled = time.monotonic()
                    await reconcile_due(*args, deps.clock.now(), deps.settings, deps.in_flight)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("SMS dispatcher round failed; next round will retry")
            finally:
                deps.in_round = False
            if deps.stopping:
                return
            if deps.settings.sms_dispatch_max_rate and taken:
                pace = taken / deps.settings.sms_dispatch_max_rate
                await asyncio.sleep(max(0.0, pace - (time.monotonic() - began)))
            if taken < deps.settings.sms_dispatch_batch:
                await wakeup.sleep(deps.settings.sms_dispatch_interval)
                # Woken by a commit: let the next few commits join this round (a round costs
                # two transactions and a confirm whatever its size).
                await asyncio.sleep(deps.settings.sms_dispatch_gather_seconds)
    finally:
        await wakeup.close()
