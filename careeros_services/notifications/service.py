"""The notifications service layer: what the nameko and gRPC entrypoints both call.

Two halves, joined by the ``messages`` table:

* **Consuming** (``handle_events``): each event this service knows queues one message keyed by
  the event's id, in the transaction that claims the event in the inbox, so a redelivered event
  queues nothing twice. No network call happens here.
* **The weekly digest** (``queue_weekly_digests``, on a slower timer): statements, completions
  and milestones of the events above are added up per person and ISO week in ``weekly_activity``;
  after the week ends, each person active in it gets one ``weekly_digest`` message queued (the
  row's claim and the message's UUIDv5 key make it once), which is then delivered like any other.
* **Delivering** (``deliver_due``, on a timer): due messages are locked one by one (``SKIP
  LOCKED``: several workers never send one message twice), the recipient's address is asked of
  auth (events carry no contact data), the message is rendered and handed to the SMTP server, and
  marked ``sent`` in that same transaction. A failure schedules another attempt with exponential
  backoff; after ``max_attempts`` the message is ``failed``, its event goes to the bus's DLQ and
  the inbox claim is released, so ``careeros dlq replay`` queues it again.
"""
from __future__ import annotations

import logging
import smtplib
import threading
from datetime import date, datetime
from typing import Callable
from urllib.parse import quote

from bus.handlers import EventHandlingService, by_learner, handles
from bus.store import ServiceStore, Transaction
from careeros_services.common import metrics
from careeros_services.common.caller import Caller
from careeros_services.common.clock import Clock, system_clock
from careeros_services.common.errors import NotFound, ValidationFailed
from careeros_services.common.privacy import PersonalDataOwner
from careeros_services.common.unit_of_work import ServiceWithUnitOfWork
from careeros_services.notifications import domain, persistence, rendering
from careeros_services.notifications.mailer import Mailer
from careeros_services.notifications.persistence import MessageRecord, NotificationsUnitOfWork
from careeros_services.notifications.settings import Settings, SmtpSettings

log = logging.getLogger(__name__)

SERVICE = "notifications"
# contacts(tenant_id, user_id="", invite_id="") -> {"email", "display_name", "tenant_name", "tenant_kind",
# "inviter_name"}: auth's answer (over nameko RPC in production, the auth service layer in tests).
Contacts = Callable[..., dict]
DeadLetter = Callable[[dict, str, int], None]
# The SMTP server is unreachable: stop the batch, the rest waits for its own next attempt.
CONNECTION_ERRORS = (OSError, smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError)


class NotificationsService(ServiceWithUnitOfWork[NotificationsUnitOfWork], PersonalDataOwner, EventHandlingService):
    """Messages caused by events, their delivery over SMTP, and each person's preferences.

    ``settings`` and ``smtp_settings`` are the ``notifications`` and ``smtp`` sections
    (settings.py, read by ``build()``); ``links["web"]`` the web client's
    base URL, which every link a person clicks opens (a page of the web client, never a JSON API URL);
    ``clock`` the service's time (tests pass a fixed one).
    """

    consumer_name = SERVICE
    unit_of_work_class = NotificationsUnitOfWork
    personal_rows = persistence.PERSONAL_ROWS
    # A batch holds each learner's week row it touched until it commits (statements come keyed by
    # statement id, so every partition has every learner's): in learner order, batches queue.
    lock_order = by_learner

    def __init__(self, store: ServiceStore, settings: Settings, smtp_settings: SmtpSettings, links: dict,
                 dead_letter: DeadLetter, clock: Clock = system_clock):
        self.store = store
        self.clock = clock
        self.max_attempts, self.batch_size = settings.max_attempts, settings.batch_size
        self.backoff_s, self.max_backoff_s = settings.backoff_s, settings.max_backoff_s
        self.concurrency = max(1, settings.concurrency)
        self.secret = settings.signing_secret
        self.smtp_settings = smtp_settings
        self.sender = smtp_settings.sender
        self.web = str(links["web"]).rstrip("/")
        self.dead_letter = dead_letter

    # --- consuming -------------------------------------------------------------------------------

    @handles(*domain.KIND_BY_EVENT)
    def _on_event(self, tx: Transaction, envelope: dict) -> None:
        """Queue the message this event causes (once: the inbox and the unique event id see to it)."""
        uow = self.unit_of_work_in(tx)
        kind = domain.kind_for(envelope["type"])
        payload = envelope["payload"]
        if uow.notifications.enqueue(envelope, kind.name, domain.recipient_of(kind, payload),
                                     payload.get("user_id"), self.clock()):
            metrics.NOTIFICATIONS.labels(kind.name, "queued").inc()

    # --- the weekly digest's read model (from events this service consumes anyway) --------------

    @handles(*domain.ACTIVITY_EVENTS)
    def _on_activity(self, tx: Transaction, envelope: dict) -> None:
        """Add a learner's statement, completion, milestone or progress to their week."""
        p, at = envelope["payload"], domain.parse_time(envelope["occurred_at"])
        repo, week, now = self.unit_of_work_in(tx).notifications, domain.week_start(at), self.clock()
        who = (envelope["tenant_id"], p["user_id"], week, now)
        if envelope["type"] == domain.STATEMENT_RECORDED:
            repo.add_activity(*who, statements=1, seconds=int(p["duration_s"]), lesson=domain.lesson_done(p),
                              active_day=domain.active_day_bit(at))
        elif envelope["type"] == domain.ENROLLMENT_COMPLETED:
            repo.add_activity(*who, courses=1, active_day=domain.active_day_bit(at))
        elif envelope["type"] == domain.MILESTONE_ACHIEVED:
            repo.add_activity(*who, milestone=p["skill_name"], active_day=domain.active_day_bit(at))
        else:  # progress: only what to suggest next; progress alone is not activity
            repo.set_next_course(*who[:3], p["course_id"], int(p["percent"]), bool(p["completed"]), now)

    def queue_weekly_digests(self) -> int:
        """Queue last week's digest for every person active in it (every tenant, isolated schemas
        too); returns how many were queued. Safe under repeated timers and concurrent workers: each
        person's week is claimed once. People who turned the digest off are passed over."""
        week, queued = domain.digest_week(self.clock()), 0
        while True:
            with self.unit_of_work(None) as uow:
                due = uow.notifications.digest_due(week, self.batch_size)
            for tenant_id, user_id in due:
                queued += self._queue_digest(tenant_id, user_id, week)
            if len(due) < self.batch_size:
                return queued

    def _queue_digest(self, tenant_id: str, user_id: str, week: date) -> int:
        with self.unit_of_work(tenant_id) as uow:
            repo, now = uow.notifications, self.clock()
            activity = repo.claim_digest(tenant_id, user_id, week, now)
            if activity is None or not repo.preferences(tenant_id, user_id).get("weekly_digest", True):
                return 0  # claimed by another run, or turned off: decided for this week either way
            streak = domain.streak_weeks(repo.active_weeks(tenant_id, user_id, week), week)
            envelope = domain.digest_envelope(tenant_id, user_id, week,
                                              domain.digest_payload(activity, streak, week, self.web), now)
            if not repo.enqueue(envelope, "weekly_digest", {"user_id": user_id}, user_id, now):
                return 0
        metrics.NOTIFICATIONS.labels("weekly_digest", "queued").inc()
        return 1

    # --- delivering ------------------------------------------------------------------------------

    def deliver_due(self, contacts: Contacts) -> dict[str, int]:
        """Send every message due now, batch after batch, ``concurrency`` senders at a time (each with
        its own SMTP connection: one sender mostly waits for the server); returns counts by outcome.

        Stops early when the SMTP server cannot be reached (what is left keeps its schedule).
        """
        totals: dict[str, int] = {}
        while True:
            with self.unit_of_work(None) as uow:
                due = uow.notifications.due(self.clock(), self.batch_size)
            # One tenant's messages go through one sender, oldest first: a person's mail keeps its order.
            by_sender: dict[int, list[tuple[str, str]]] = {}
            for tenant_id, message_id in due:
                by_sender.setdefault(hash(tenant_id) % self.concurrency, []).append((tenant_id, message_id))
            slices = list(by_sender.values())
            results: list[dict[str, int]] = [{} for _ in slices]
            senders = [threading.Thread(target=self._deliver_slice, args=(part, contacts, result))
                       for part, result in zip(slices, results)]  # green threads under nameko (monkey-patched)
            for sender in senders:
                sender.start()
            for sender in senders:
                sender.join()
            for result in results:
                for outcome, n in result.items():
                    totals[outcome] = totals.get(outcome, 0) + n
            if "unreachable" in totals or len(due) < self.batch_size:
                return totals

    def _deliver_slice(self, due: list[tuple[str, str]], contacts: Contacts, counts: dict[str, int]) -> None:
        mailer, cache = Mailer(self.smtp_settings), {}
        try:
            for tenant_id, message_id in due:
                outcome = self._deliver_one(tenant_id, message_id, contacts, mailer, cache)
                counts[outcome] = counts.get(outcome, 0) + 1
                if outcome == "unreachable":
                    return
        finally:
            mailer.close()

    def _deliver_one(self, tenant_id: str, message_id: str, contacts: Contacts, mailer: Mailer,
                     cache: dict) -> str:
        with self.unit_of_work(tenant_id) as uow:
            repo = uow.notifications
            now = self.clock()
            message = repo.lock_queued(tenant_id, message_id, now)
            if message is None:
                return "busy"  # sent meanwhile, or another worker holds it
            kind = domain.KINDS[message.kind]
            try:
                contact = self._contact(contacts, tenant_id, message.recipient, cache)
                if not kind.required and not repo.preferences(tenant_id, str(message.user_id)).get(kind.name, True):
                    repo.mark(message, state="skipped", last_error="turned off by the recipient")
                    return self._count(kind.name, "skipped")
                email = self._compose(kind, message, contact)
                mailer.send(email)
            except NotFound as exc:  # the person or invite is gone: nobody to write to
                repo.mark(message, state="skipped", last_error=str(exc)[:500])
                return self._count(kind.name, "skipped")
            except Exception as exc:  # noqa: BLE001 - an attempt failed: retry later or give up
                return self._failed_attempt(uow, message, exc, now)
            repo.mark(message, state="sent", sent_at=self.clock(), attempts=message.attempts + 1,
                      to_address=domain.masked_address(contact["email"]), subject=str(email["Subject"]),
                      last_error="")
            return self._count(kind.name, "sent")

    def _failed_attempt(self, uow: NotificationsUnitOfWork, message: MessageRecord,
                        error: Exception, now: datetime) -> str:
        repo = uow.notifications
        attempts, reason = message.attempts + 1, f"{type(error).__name__}: {error}"[:500]
        if attempts >= self.max_attempts:
            log.error("notification %s failed %d times, dead-lettering its event: %s", message.id, attempts, reason)
            repo.mark(message, state="failed", attempts=attempts, last_error=reason)
            if domain.KINDS[message.kind].event_type:  # the digest has no event on the bus to replay
                uow.release(str(message.event_id), SERVICE)  # a DLQ replay queues it again
                self.dead_letter(dict(message.event), reason, attempts)
            self._count(message.kind, "failed")
        else:
            log.warning("notification %s attempt %d failed, retrying: %s", message.id, attempts, reason)
            repo.mark(message, attempts=attempts, last_error=reason, next_attempt_at=domain.next_attempt(
                now, attempts, self.backoff_s, self.max_backoff_s))
            self._count(message.kind, "retried")
        return "unreachable" if isinstance(error, CONNECTION_ERRORS) else "retried"

    @staticmethod
    def _count(kind: str, outcome: str) -> str:
        metrics.NOTIFICATIONS.labels(kind, outcome).inc()
        return outcome

    @staticmethod
    def _contact(contacts: Contacts, tenant_id: str, recipient: dict, cache: dict) -> dict:
        key = (tenant_id, recipient.get("user_id", ""), recipient.get("invite_id", ""))
        if key not in cache:
            cache[key] = contacts(tenant_id, user_id=key[1], invite_id=key[2])
        return cache[key]

    def _compose(self, kind: domain.Kind, message: MessageRecord, contact: dict):
        payload = message.event["payload"]
        org, name = domain.org_name(contact), contact.get("display_name") or ""
        token = None if kind.required else domain.unsubscribe_token(self.secret, str(message.tenant_id),
                                                                     str(message.user_id), kind.name)
        subject, text, html = rendering.render(kind.name, {
            "p": payload, "name": name, "org": org, "inviter": contact.get("inviter_name") or "",
            "link": self._link(kind.name, payload),
            "unsubscribe_url": token and self.unsubscribe_page_url(token)})
        attachments = ()
        if kind.name == "payment_receipt":
            attachments = ((f"invoice-{payload['invoice_id']}.pdf", "application/pdf",
                            rendering.invoice_pdf(payload, org, name)),)
        return rendering.compose(
            sender=self.sender, to=contact["email"], to_name=name, subject=subject, text=text, html=html,
            message_id=domain.message_id_header(str(message.event_id), domain.from_domain(self.sender)),
            unsubscribe_url=token and self.unsubscribe_url(token), attachments=attachments)

    def _link(self, kind: str, payload: dict) -> str:
        """The web client's page for this message (its routes: web/views/*.py)."""
        token = quote(str(payload.get("token", "")), safe="")
        course = payload.get("course_id") or ""
        return {
            "email_verification": f"{self.web}/verify-email?token={token}",  # verifies through the API, says so
            "password_reset": f"{self.web}/reset-password?token={token}",
            "invite": f"{self.web}/invites/{token}",  # the accept page (as the API's accept_url)
            "assignment": f"{self.web}/courses/{course}" if course else f"{self.web}/app/roadmap",
            "certificate_issued": f"{self.web}/certificates/{payload.get('certificate_id', '')}",  # public check
            "export_ready": str(payload.get("download_url", "")),  # the signed archive itself
            "weekly_digest": f"{self.web}/app",  # the dashboard
        }.get(kind, f"{self.web}/app/billing")  # receipts, failed payments, a lapsed plan

    def unsubscribe_url(self, token: str) -> str:
        """The ``List-Unsubscribe`` target: the API's RFC 8058 one-click POST (mail clients post to it)."""
        return f"{self.web}/api/v1/notifications/unsubscribe?token={token}"

    def unsubscribe_page_url(self, token: str) -> str:
        """The link in the body: a web page that asks before it unsubscribes (scanners prefetch GETs)."""
        return f"{self.web}/unsubscribe?token={token}"

    # --- preferences -----------------------------------------------------------------------------

    def get_preferences(self, caller: Caller) -> dict[str, bool]:
        """Every optional kind of message and whether the caller gets it (default: yes)."""
        with self.unit_of_work(caller.tenant_id) as uow:
            stored = uow.notifications.preferences(caller.tenant_id, caller.user_id)
        return {kind: stored.get(kind, True) for kind in domain.OPTIONAL_KINDS}

    def update_preferences(self, caller: Caller, patch: dict) -> dict[str, bool]:
        """Turn optional kinds on or off for the caller; required kinds are refused (ValidationFailed)."""
        values = domain.validate_preferences(patch)
        with self.unit_of_work(caller.tenant_id) as uow:
            uow.notifications.set_preferences(caller.tenant_id, caller.user_id, values, self.clock())
        return self.get_preferences(caller)

    def unsubscribe(self, token: str) -> dict:
        """One-click unsubscribe (RFC 8058): turn off the kind the signed link names; idempotent."""
        tenant_id, user_id, kind = domain.read_unsubscribe_token(self.secret, token)
        with self.unit_of_work(tenant_id) as uow:
            uow.notifications.set_preferences(tenant_id, user_id, {kind: False}, self.clock())
        return {"kind": kind, "enabled": False}

    # --- operators -------------------------------------------------------------------------------

    def list_messages(self, state: str = "", limit: int = 50) -> list[dict]:
        """Newest messages of every tenant (summaries, no bodies), optionally of one state."""
        if state and state not in domain.STATES:
            raise ValidationFailed("Unknown message state.", fields={"state": [f"must be one of {', '.join(domain.STATES)}"]})
        with self.unit_of_work(None) as uow:
            return uow.notifications.overview(state, max(1, min(int(limit), 1000)))

    def counts(self) -> dict[str, int]:
        """How many messages are in each state (all tenants)."""
        with self.unit_of_work(None) as uow:
            return uow.notifications.counts()


def build(config: dict, clock: Clock = system_clock) -> NotificationsService:
    """The service layer for one process (nameko container or gRPC server)."""
    from bus import kafka
    from bus.dlq import dead_letter_envelope

    store = ServiceStore.from_config(config, SERVICE)
    persistence.bind(store.database)
    group = kafka.group_id(config, SERVICE)

    def dead_letter(envelope: dict, reason: str, attempts: int) -> None:
        dead_letter_envelope(config, envelope, group=group, reason=reason, attempts=attempts)

    links = {"web": config["web"]["base_url"]}
    return NotificationsService(store, Settings.from_config(config), SmtpSettings.from_config(config), links,
                                dead_letter, clock)

