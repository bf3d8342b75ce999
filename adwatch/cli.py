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
from adwatch.store import Store, connect, embedded_cluster, embedded_node, now_utc

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
        return _engine_start(settings, node, args.nodes)
    cluster = embedded_cluster(settings)
    if args.action == "stop":
        stopped = [what for what, engine in (("node", node), ("cluster", cluster)) if engine.stop()]
        out.print(f"Stopped the embedded {' and '.join(stopped)}." if stopped else "The embedded engine was not running.")
        return 0
    state = node.state()
    members = cluster.running()
    if state is None and not members:
        out.print(f"Not running (pinned version {ELASTICSEARCH_VERSION}, directories {node.node_dir} and "
                  f"{cluster.cluster_dir}).")
        return 3
    for running in ([state] if state else members):
        out.print(f"Running: Elasticsearch {running.version} at {running.url}, pid {running.pid}, "
                  f"RSS {tree_rss_bytes(running.pid) / 2**20:.0f} MiB, up {time.time() - running.started_at:.0f} s, "
                  f"directory {running.node_dir}")
    if members:
        health = cluster.health()
        out.print(f"Cluster {health['cluster_name']}: {health['status']}, {health['number_of_nodes']} of "
                  f"{cluster.size} nodes; ADWATCH_ES_URL={','.join(cluster.urls())} reaches it from elsewhere.")
    return 0


def _engine_start(settings, node, nodes: int) -> int:
    """`adwatch engine start [--nodes N]`: the single node, or a cluster of N; never both at once."""
    cluster = embedded_cluster(settings, nodes if nodes > 1 else None)
    single, members = node.state(), cluster.running()
    if (nodes == 1 and members) or (nodes > 1 and single):
        running = f"a {len(members)}-node cluster" if members else "the single node"
        raise UserError(f"The embedded engine already runs as {running}; `adwatch engine stop` it before starting "
                        f"{'one node' if nodes == 1 else f'a cluster of {nodes}'}.")
    began = time.monotonic()
    if nodes == 1:
        state = node.start()
        if single:
            out.print(f"Embedded Elasticsearch {state.version} already running at {state.url} (pid {state.pid}).")
        else:
            out.print(f"Embedded Elasticsearch {state.version} ready at {state.url} in "
                      f"{time.monotonic() - began:.1f} s (pid {state.pid}, heap {settings.engine_heap}).")
        out.print(f"Data and logs: {node.node_dir}")
        return 0
    states = cluster.start()
    out.print(f"Embedded Elasticsearch cluster of {nodes} nodes ({states[0].version}, heap {settings.engine_heap} "
              f"each) ready in {time.monotonic() - began:.1f} s at {', '.join(s.url for s in states)}.")
    out.print(f"Data and logs: {cluster.cluster_dir}/node-*; AdWatch commands here find it by themselves.")
    return 0


def _node_count(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 9:
        raise argparse.ArgumentTypeError(f"--nodes must be a whole number from 1 to 9, got {text!r}")
    return int(text)


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
    created = store.ensure_schema(templates=True)
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
    out.print(apply_retention(store, args.keep_months, images, today, dry_run=args.dry_run,
                              jobs_dir=settings.jobs_dir).summary())
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
    engine.add_argument("--nodes", type=_node_count, default=1,
                        help="start: a cluster of this many nodes on loopback (each with its own data; default 1)")
    engine.set_defaults(func=_engine)

    setup = sub.add_parser("setup", help="create or update index templates, indices and aliases")
    setup.set_defaults(func=_setup)

    status = sub.add_parser("status", help="show indices and document counts")
    status.set_defaults(func=_status)

    retention = sub.add_parser("retention", help="drop ads first seen before the last N months, and every trace of them")
    retention.add_argument("--keep-months", type=int, required=True, help="months to keep, counting this one (>= 1)")
    retention.add_argument("--images", default=None,
                           help="the crawler's image store (default <cache>/images); unreferenced photos are deleted")
    retention.add_argument("--dry-run", action="store_true",
                           help="change nothing; print what would be removed (partitions, ads, clusters, image files)")
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
        # Soft-wrapped: rich would otherwise fold at 80 columns off a terminal, cutting a path or URL
        # of the message in two (what a user copies, what a log shipper takes as one event).
        Console(stderr=True).print(f"[bold red]adwatch:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        return 2


if __name__ == "__main__":
    sys.exit(main())
