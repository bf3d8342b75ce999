"""The `adwatch` command: wires the stages together; each stage owns its own subcommands.

Errors a person can act on (no cluster, no JDK, a bad config) end as one message on stderr and
exit code 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import time
from pathlib import Path

from elasticsearch import AuthorizationException
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from adwatch import __version__, logs
from adwatch.config import load_settings
from adwatch.errors import UserError
from adwatch.engine import ELASTICSEARCH_VERSION, fetch_distribution, find_java, tree_rss_bytes
from adwatch.retention import apply_retention, cutoff_month
from adwatch.retry import permission_denied
from adwatch.store import Store, connect, embedded_node, now_utc

# Stage packages add their commands through `register(subparsers)`: some as a group of their own
# (`adwatch demo generate`), some at the top level (`adwatch crawl`).
STAGE_GROUPS = {"demo": (("demo.cli", "adwatch.walkthrough"),  # `adwatch demo run` wires every stage together
                          "the local demo marketplace and its ground-truth world")}
STAGE_COMMANDS = ["crawler.cli", "crawler.scheduler_cli", "enrich.cli", "dashboards.lookup_cli", "dashboards.cli",
                  "dashboards.explorer.cli"]

out = Console()


def _engine(args: argparse.Namespace) -> int:
    settings = load_settings()
    node = embedded_node(settings)
    if args.action == "fetch":
        home = fetch_distribution(settings.cache_dir)
        java = find_java()
        out.print(f"Elasticsearch {ELASTICSEARCH_VERSION} distribution at {home}; Java {java.version} at {java.home}.")
        return 0
    if args.action == "start":
        if settings.es_url:
            out.print(f"ADWATCH_ES_URL is set ({settings.es_url}); the embedded engine is not used.")
        already = node.state()
        began = time.monotonic()
        state = node.start()
        if already:
            out.print(f"Embedded Elasticsearch {state.version} already running at {state.url} (pid {state.pid}).")
        else:
            out.print(f"Embedded Elasticsearch {state.version} ready at {state.url} in "
                      f"{time.monotonic() - began:.1f} s (pid {state.pid}, heap {settings.engine_heap}).")
        out.print(f"Data and logs: {node.node_dir}")
        return 0
    if args.action == "stop":
        out.print("Stopped." if node.stop() else "The embedded engine was not running.")
        return 0
    state = node.state()
    if state is None:
        out.print(f"Not running (pinned version {ELASTICSEARCH_VERSION}, directory {node.node_dir}).")
        return 3
    out.print(f"Running: Elasticsearch {state.version} at {state.url}, pid {state.pid}, "
              f"RSS {tree_rss_bytes(state.pid) / 2**20:.0f} MiB, up {time.time() - state.started_at:.0f} s, "
              f"directory {state.node_dir}")
    return 0


def settings_url() -> str:
    """The configured cluster, for messages (the embedded node when ADWATCH_ES_URL is unset)."""
    try:
        return load_settings().es_url or "the embedded node"
    except UserError:
        return "the cluster"


def _store() -> Store:
    settings = load_settings()
    return Store(connect(settings), settings.index_prefix)


def _setup(args: argparse.Namespace) -> int:
    store = _store()
    created = store.ensure_schema()
    out.print(f"Schema ready; created {', '.join(created) if created else 'nothing (all present)'}.")
    return 0


def _status(args: argparse.Namespace) -> int:
    store = _store()
    table = Table(title=f"AdWatch indices ({store.client.transport.node_pool.get().base_url})")
    table.add_column("alias")
    table.add_column("documents", justify="right")
    for alias, count in store.counts().items():
        table.add_row(alias, "no read privilege" if count is None else str(count))
    out.print(table)
    partitions = store.ads_partitions()
    out.print(f"Ads partitions: {', '.join(partitions) if partitions else 'none'}")
    return 0


def _retention(args: argparse.Namespace) -> int:
    settings = load_settings()
    today = now_utc()
    cutoff_month(today, args.keep_months)  # refuse a bad value before touching anything
    store = Store(connect(settings), settings.index_prefix)
    images = Path(args.images) if args.images else settings.image_dir
    out.print(apply_retention(store, args.keep_months, images, today).summary())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="adwatch", description="Find networks of classified ads posted by one controller.")
    parser.add_argument("--version", action="version", version=f"adwatch {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail to stderr")
    parser.add_argument("--log-format", choices=logs.FORMATS, default=None,
                        help="text (default) or json: one JSON object per line, for Kibana (env ADWATCH_LOG_FORMAT)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    engine = sub.add_parser("engine", help="manage the embedded Elasticsearch node")
    engine.add_argument("action", choices=["start", "stop", "status", "fetch"],
                        help="fetch: download the pinned distribution and check for Java 21+, without starting")
    engine.set_defaults(func=_engine)

    setup = sub.add_parser("setup", help="create or update index templates, indices and aliases")
    setup.set_defaults(func=_setup)

    status = sub.add_parser("status", help="show indices and document counts")
    status.set_defaults(func=_status)

    retention = sub.add_parser("retention", help="drop ads first seen before the last N months, and every trace of them")
    retention.add_argument("--keep-months", type=int, required=True, help="months to keep, counting this one (>= 1)")
    retention.add_argument("--images", default=None,
                           help="the crawler's image store (default <cache>/images); unreferenced photos are deleted")
    retention.set_defaults(func=_retention)

    for name, (modules, help_text) in STAGE_GROUPS.items():
        group = sub.add_parser(name, help=help_text)
        group_sub = group.add_subparsers(dest=f"{name}_command", required=True, metavar="COMMAND")
        for module in modules:
            importlib.import_module(module).register(group_sub)
    for module in STAGE_COMMANDS:
        importlib.import_module(module).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logs.configure(args.log_format, logging.DEBUG if args.verbose else logging.INFO)
    # The client logs every request at INFO; that is debug detail for us.
    logging.getLogger("elastic_transport").setLevel(logging.DEBUG if args.verbose else logging.WARNING)
    try:
        try:
            return args.func(args)
        except AuthorizationException as exc:
            # Any request a command makes with too little privilege, wrapped or not, names what it lacks.
            raise permission_denied(exc, settings_url()) from exc
    except UserError as exc:
        # Escaped: messages quote Elasticsearch ("user [x] on indices [y]"), which is not markup.
        Console(stderr=True).print(f"[bold red]adwatch:[/] {escape(str(exc))}", highlight=False)
        return 2


if __name__ == "__main__":
    sys.exit(main())
