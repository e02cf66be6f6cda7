"""``careeros``: the command line for running and operating CareerOS.

    careeros run                      start the whole platform (what `make run` calls)
    careeros setup                    create databases, run migrations, create topics
    careeros grpc|relay [--services]  run one kind of process (Kubernetes runs these)
    careeros broker                   run the embedded Kafka-compatible broker
    careeros dlq list|show|replay     inspect and replay dead-lettered events
    careeros analytics rebuild        replay every topic into fresh analytics read models
    careeros tenant isolate <id>      move a tenant's rows into its own schema in each service database
    careeros smtp-sink                run the embedded SMTP sink (keeps every message in smtp.sink_dir) and
                                      its mailbox page (http://127.0.0.1:8025/, smtp.sink_http_port)
    careeros mail list|show <id>      read the messages the sink kept
    careeros notifications list|counts   delivery state of notification messages (queued/sent/failed/skipped)
"""
from __future__ import annotations

import argparse
import json
import signal
import sys
import threading

from careeros_services import registry
from careeros_services.common.config import load_config


def _stop_event() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def cmd_setup(config: dict, args) -> None:
    from bus import kafka
    from bus.store import migrations
    from careeros_services.common import db

    for spec in registry.select(args.services):
        applied = db.migrate(config, spec.name, migrations(spec.package))
        print(f"{spec.name}: database {db.database_name(config, spec.name)}, "
              f"{len(applied)} migration(s) applied")
    if not args.skip_topics:
        kafka.ensure_topics(config, kafka.all_topics(config))
        print("topics ready")


def cmd_relay(config: dict, args) -> None:
    from bus.relay import run_relays
    from careeros_services.common.bootstrap import configure_process

    configure_process(config, "relay", "relay")
    stop = _stop_event()
    threads = run_relays(config, [s.name for s in registry.select(args.services)], stop)
    threading.Thread(target=_report_dlq_sizes, args=(config, stop), daemon=True).start()
    while not stop.wait(0.5):
        if not all(t.is_alive() for t in threads):
            sys.exit("a relay thread died")


def _report_dlq_sizes(config: dict, stop: threading.Event, every_s: float = 30.0) -> None:
    """Keep the ``careeros_dlq_messages`` gauge current (entries not yet replayed)."""
    import logging

    from bus.dlq import DeadLetters
    from careeros_services.common import metrics

    dead = DeadLetters(config)
    while not stop.wait(every_s):
        try:
            counts = dead.pending_counts()
            for topic in dead.topics():
                metrics.DLQ_MESSAGES.labels(topic).set(counts.get(topic, 0))
        except Exception as exc:  # noqa: BLE001 - a metric must not stop the relay
            logging.getLogger(__name__).warning("could not count DLQ entries: %s", exc)


def cmd_grpc(config: dict, args) -> None:
    from careeros_services.common import grpc_support
    from careeros_services.common.bootstrap import configure_process

    configure_process(config, "grpc", "grpc")
    registrations = [r for spec in registry.select(args.services) for r in spec.grpc_registrations(config)]
    server = grpc_support.serve(registrations, args.bind or config["grpc"]["bind"],
                                int(config["grpc"]["workers"]))
    stop = _stop_event()
    stop.wait()
    server.stop(grace=5).wait()


def cmd_broker(config: dict, args) -> None:
    from careeros_services.common import infra

    process = infra.start_embedded_broker(int(config["kafka"]["embedded_port"]))
    print(f"Kafka-compatible broker on 127.0.0.1:{config['kafka']['embedded_port']}", flush=True)
    stop = _stop_event()
    while not stop.wait(0.5) and process.poll() is None:
        pass
    infra.stop_process(process)


def cmd_dlq(config: dict, args) -> None:
    from bus.dlq import DeadLetters

    dead = DeadLetters(config)
    if args.action == "list":
        for entry in dead.read(args.topic, pending_only=not args.all):
            print(json.dumps(entry.summary()))
    elif args.action == "show":
        print(json.dumps(dead.find(args.ref).as_dict(), indent=2))
    elif args.action == "replay":
        if args.ref:
            count = dead.replay([dead.find(args.ref)])
        else:
            count = dead.replay_all(args.topic)
        print(f"replayed {count} event(s)")


def cmd_analytics(config: dict, args) -> None:
    from careeros_services.analytics.rebuild import rebuild

    print(json.dumps(rebuild(config)))


def cmd_tenant(config: dict, args) -> None:
    from bus.store import migrations
    from careeros_services.common.tenant_schemas import isolate

    for spec in registry.select(args.services):
        print(json.dumps(isolate(config, spec.name, args.tenant_id, migrations(spec.package))))


def cmd_smtp_sink(config: dict, args) -> None:
    import logging

    from careeros_services.common.bootstrap import configure_process
    from careeros_services.notifications import sink
    from careeros_services.notifications.settings import SmtpSettings

    configure_process(config, "smtp-sink", "smtp-sink")  # JSON log lines like every process (no metrics port)
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's per-command chatter
    controller = sink.start(config)
    logging.getLogger(__name__).info("SMTP sink listening on %s:%s, keeping mail in %s", controller.hostname,
                                     controller.port, sink.sink_dir(config))
    page = None
    port = SmtpSettings.from_config(config).mailbox_port
    if port:  # none: no mailbox page
        from careeros_services.notifications import sink_web

        try:
            page = sink_web.serve(config, port)
            logging.getLogger(__name__).info("mailbox page at http://%s:%s/", *page.server_address[:2])
        except OSError as exc:  # a busy port costs the page, never the sink
            logging.getLogger(__name__).warning("mailbox page not served: %s", exc)
    _stop_event().wait()
    if page is not None:
        page.shutdown()
    controller.stop()


def cmd_mail(config: dict, args) -> None:
    from careeros_services.notifications import sink

    if args.action == "list":
        for key, message in sink.messages(config):
            print(json.dumps(sink.summary(key, message)))
    elif args.raw:
        print(sink.find(config, args.id).as_string())
    else:
        message = sink.find(config, args.id)
        for header in ("From", "To", "Subject", "Date", "List-Unsubscribe"):
            if message[header]:
                print(f"{header}: {message[header]}")
        attachments = [part.get_filename() for part in message.iter_attachments()]
        if attachments:
            print(f"Attachments: {', '.join(attachments)}")
        print()
        print(sink.text_of(message))


def cmd_notifications(config: dict, args) -> None:
    from careeros_services.notifications.service import build

    service = build(config)
    try:
        if args.action == "counts":
            print(json.dumps(service.counts()))
        else:
            for row in service.list_messages(args.state or "", args.limit):
                print(json.dumps(row))
    finally:
        service.store.close()


def cmd_run(config: dict, args) -> None:
    from careeros_services.common.settings import SettingsError
    from careeros_services.supervisor import run_platform
    from web.settings import WebSettingsError

    try:
        code = run_platform(config, services=args.services)
    except (SettingsError, WebSettingsError) as exc:  # the message names the bad key
        sys.exit(f"careeros run: bad configuration: {exc}")
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="careeros", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", help="configuration file (default: $CAREEROS_CONFIG or config.yaml)")
    sub = parser.add_subparsers(dest="command", required=True)

    def with_services(p):
        p.add_argument("--services", default="all", help="comma-separated services (default: all)")
        return p

    p = with_services(sub.add_parser("setup", help="databases, migrations and topics"))
    p.add_argument("--skip-topics", action="store_true")
    p.set_defaults(func=cmd_setup)
    with_services(sub.add_parser("relay", help="run the outbox relays")).set_defaults(func=cmd_relay)
    p = with_services(sub.add_parser("grpc", help="run the gRPC servers"))
    p.add_argument("--bind")
    p.set_defaults(func=cmd_grpc)
    sub.add_parser("broker", help="run the embedded broker").set_defaults(func=cmd_broker)
    with_services(sub.add_parser("run", help="start the whole platform")).set_defaults(func=cmd_run)

    p = sub.add_parser("dlq", help="dead-lettered events")
    p.add_argument("action", choices=["list", "show", "replay"])
    p.add_argument("ref", nargs="?", help="topic:partition:offset of one entry (show, replay)")
    p.add_argument("--topic", help="only this DLQ topic")
    p.add_argument("--all", action="store_true", help="list: include entries already replayed")
    p.set_defaults(func=cmd_dlq)

    p = sub.add_parser("analytics", help="analytics read models")
    p.add_argument("action", choices=["rebuild"], help="rebuild: truncate and replay from the earliest offsets")
    p.set_defaults(func=cmd_analytics)

    p = with_services(sub.add_parser("tenant", help="tenant isolation (schema per tenant)"))
    p.add_argument("action", choices=["isolate"])
    p.add_argument("tenant_id")
    p.set_defaults(func=cmd_tenant)

    sub.add_parser("smtp-sink", help="run the embedded SMTP sink").set_defaults(func=cmd_smtp_sink)
    p = sub.add_parser("mail", help="messages the embedded SMTP sink kept")
    p.add_argument("action", choices=["list", "show"])
    p.add_argument("id", nargs="?", help="show: the message's id (or a prefix of it) from `mail list`")
    p.add_argument("--raw", action="store_true", help="show: the whole MIME message")
    p.set_defaults(func=cmd_mail)
    p = sub.add_parser("notifications", help="delivery state of notification messages")
    p.add_argument("action", choices=["list", "counts"])
    p.add_argument("--state", choices=["queued", "sent", "failed", "skipped"])
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(func=cmd_notifications)

    args = parser.parse_args(argv)
    if args.command == "mail" and args.action == "show" and not args.id:
        parser.error("mail show needs a message id (from `careeros mail list`)")
    if args.command == "dlq" and args.action == "show" and not args.ref:
        parser.error("dlq show needs a ref (topic:partition:offset)")
    args.func(load_config(args.config), args)


if __name__ == "__main__":
    main()
