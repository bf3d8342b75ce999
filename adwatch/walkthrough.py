"""`adwatch demo run` (what `make demo` calls): the main job end to end on embedded defaults.

Generate a demo world (reused when it is already there), start the embedded Elasticsearch and
the demo marketplace, crawl both flavours through the real crawler, enrich and cluster, print the
largest clusters and the evaluation against the truth, write the Kibana saved objects and one
researcher export, then stop what it started. The demo lives
in its own deployment (index prefix `demo`), reset at each run (every `demo-*` index and template
is deleted), so it runs on the embedded node only, whatever ADWATCH_ES_URL says: someone's real
cluster is used only with `--on-cluster`, after a yes to the question naming it (or `--yes`).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

from rich.console import Console
from rich.table import Table

from adwatch.config import load_settings
from adwatch.errors import UserError
from adwatch.files import write_atomically
from adwatch.store import Store, connect, embedded_node

DEMO_PREFIX = "demo"
out = Console()


def _step(text: str) -> None:
    out.print(f"[bold cyan]==>[/] {text}")


def _world(out_dir: Path, ads: int, seed: int) -> Path:
    from demo.generator import generate_world

    world = out_dir / "world"
    meta = world / "world.json"
    if meta.is_file():
        info = json.loads(meta.read_text())
        if info.get("complete") and info.get("n_ads") == ads and info.get("seed") == seed:
            _step(f"Reusing the demo world in {world} ({ads} ads, seed {seed})")
            return world
    _step(f"Generating a demo world of {ads} ads (seed {seed}) in {world}")
    summary = generate_world(world, ads, seed)
    out.print(f"    {summary}")
    return world


def _crawl(site: str, env: dict) -> None:
    began = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "adwatch.cli", "crawl", site, "--no-politeness"], env=env,
                          capture_output=True, text=True)
    summary = done.stdout.strip().replace("\n", " ")
    if done.returncode != 0:
        raise UserError(f"crawl of {site} failed (exit {done.returncode}): {done.stderr.strip()[-800:]}")
    out.print(f"    {summary} ({time.monotonic() - began:.0f} s)")


def _largest_clusters(store: Store, count: int = 5) -> None:
    resp = store.client.search(index=store.clusters, size=count, sort=[{"size": "desc"}, {"cluster_id": "asc"}])
    table = Table(title=f"Largest of {store.client.count(index=store.clusters)['count']} clusters")
    for column in ("cluster", "ads", "sites", "cities", "evidence (id / text / image / hubs dropped)",
                   "shared identifiers"):
        table.add_column(column)
    for hit in resp["hits"]["hits"]:
        c = hit["_source"]
        e = c["evidence"]
        idents = ", ".join(i["value"] for i in c.get("identifiers", [])[:3])
        table.add_row(c["cluster_id"], str(c["size"]), " ".join(c["sites"]), str(len(c["cities"])),
                      f"{e['identifier']} / {e['text']} / {e['image']} / {e['suppressed']}", idents)
    out.print(table)


def _demo_secret(out_dir: Path, settings) -> str:
    """The configured pseudonym secret, else one made for this demo folder (kept, so re-runs match)."""
    if settings.pseudonym_secret:
        return settings.pseudonym_secret
    path = out_dir / "pseudonym.secret"
    if not path.is_file():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(24))
    return path.read_text().strip()


def _analyst_outputs(out_dir: Path, store: Store, settings) -> tuple[Path, Path]:
    """The Kibana saved objects for the demo deployment and one researcher export (clusters, CSV)."""
    from dashboards.exports import ExportOptions, export
    from dashboards.kibana import saved_objects, to_ndjson

    objects = saved_objects(DEMO_PREFIX)
    kibana = out_dir / "kibana" / "adwatch-demo.ndjson"
    kibana.parent.mkdir(exist_ok=True)
    write_atomically(kibana, to_ndjson(objects))
    out.print(f"    {len(objects)} Kibana saved objects (4 dashboards) for index prefix '{DEMO_PREFIX}' -> {kibana}")
    (out_dir / "exports").mkdir(exist_ok=True)
    secret = _demo_secret(out_dir, settings)
    result = export(replace(settings, pseudonym_secret=secret),
                    ExportOptions("clusters", "csv", out_dir / "exports" / "clusters.csv"), store)
    out.print(f"    researcher export: {result.rows} clusters of 5+ ads, identifiers pseudonymised -> {result.path} "
              f"(manifest {result.manifest.name})")
    return kibana, result.path


_CREDENTIALS = {"es_api_key": "", "es_username": "", "es_password": "", "es_ca_certs": ""}
_CREDENTIAL_ENV = ("ADWATCH_ES_API_KEY", "ADWATCH_ES_USERNAME", "ADWATCH_ES_PASSWORD", "ADWATCH_ES_CA_CERTS")


def _ask(question: str) -> bool:
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")


def demo_cluster(settings, on_cluster: bool, yes: bool, ask=_ask, interactive: bool | None = None) -> str | None:
    """The external cluster the demo may reset, or None: the embedded node, which the demo runs itself.

    Resetting means deleting every `demo-*` index and template, so an external cluster needs
    `--on-cluster` and a yes (asked on a terminal, or `--yes`); ADWATCH_ES_URL alone is never enough.
    """
    if not on_cluster:
        if settings.es_url:
            out.print(f"    ADWATCH_ES_URL is set ({settings.es_url}), but the demo deletes and rewrites every "
                      f"{DEMO_PREFIX}-* index, so it runs on the embedded node instead (--on-cluster to use that cluster).")
        return None
    if not settings.es_url:
        raise UserError("--on-cluster runs the demo on the cluster ADWATCH_ES_URL names, and it is not set; set it, "
                        "or leave out --on-cluster to use the embedded node.")
    question = (f"The demo deletes every index and template named {DEMO_PREFIX}-* on {settings.es_url} and writes "
                "its own there. Go on?")
    if yes:
        return settings.es_url
    interactive = sys.stdin.isatty() if interactive is None else interactive
    if not interactive:
        raise UserError(f"{question} There is no terminal to answer on, so nothing was touched: add --yes to "
                        "confirm, or leave out --on-cluster to use the embedded node.")
    if not ask(question):
        raise UserError(f"Stopped at your answer; nothing on {settings.es_url} was touched.")
    return settings.es_url


def run_demo(out_dir: Path, ads: int = 2000, seed: int = 7, keep_engine: bool = False, on_cluster: bool = False,
             yes: bool = False) -> int:
    from demo.server import start_server
    from enrich.cli import evaluate_index, read_truth
    from enrich.comparison import rules_from
    from enrich.worker import Worker

    began = time.monotonic()
    settings = load_settings(index_prefix=DEMO_PREFIX)
    external = demo_cluster(settings, on_cluster, yes)  # before any work: a refusal leaves nothing behind
    if external is None:
        settings = replace(settings, es_url="", **_CREDENTIALS)  # the embedded node has no users
    out_dir = out_dir.absolute()
    out_dir.mkdir(parents=True, exist_ok=True)
    world = _world(out_dir, ads, seed)
    node = None
    if external is None:
        node = embedded_node(settings)
        already = node.state()
        _step("Starting the embedded Elasticsearch" if not already else "Using the running embedded Elasticsearch")
        state = node.start()
        out.print(f"    Elasticsearch {state.version} at {state.url}")
        url = state.url
        if already:
            node = None  # not ours to stop
    else:
        url = external
    market = None
    try:
        store = Store(connect(settings, url), DEMO_PREFIX)
        store.drop_deployment()
        store.ensure_schema()
        image_dir = out_dir / "cache"
        market = start_server(world, port=0, rate_limit=60, burst=60, crawl_delay=0.02, slow_ms=100)
        _step(f"Demo marketplace on {market.url} (HTML flavour under /html/, JS flavour under /js/)")
        env = {k: v for k, v in os.environ.items() if external or k not in _CREDENTIAL_ENV}
        env.update(ADWATCH_ES_URL=url, ADWATCH_INDEX_PREFIX=DEMO_PREFIX, ADWATCH_CACHE_DIR=str(image_dir),
                   ADWATCH_DEMO_URL=market.url)
        for site in ("demo-html", "demo-js"):
            _step(f"Crawling {site}")
            _crawl(site, env)
        _step("Enriching, linking and clustering")
        report = Worker(store, image_dir / "images", rules=rules_from(settings.linking)).run()
        out.print(f"    {report.enriched} ads enriched, {report.clusters} clusters; linking {report.link_stats}")
        _largest_clusters(store)
        _step("Evaluating against the world's truth")
        s = evaluate_index(store, read_truth(world / "truth.jsonl"))
        out.print(f"    {s.ads} ads: pairwise P/R/F1 {s.pairwise_precision:.3f} / {s.pairwise_recall:.3f} / "
                  f"{s.pairwise_f1:.3f}; B-cubed P/R/F1 {s.bcubed_precision:.3f} / {s.bcubed_recall:.3f} / "
                  f"{s.bcubed_f1:.3f}; largest cluster {s.largest_predicted} (true largest {s.largest_true})")
        (out_dir / "evaluation.json").write_text(json.dumps(s.__dict__, indent=2))
        _step("Writing the Kibana dashboards and a researcher export")
        kibana, export_file = _analyst_outputs(out_dir, store, settings)
    finally:
        if market:
            market.stop()
        if node and not keep_engine:
            node.stop()
    _step(f"Done in {time.monotonic() - began:.0f} s. World and truth: {world}; images: {out_dir / 'cache'}; "
          f"scores: {out_dir / 'evaluation.json'}; dashboards: {kibana}; export: {export_file}.")
    out.print("    Explore: `adwatch engine start`, then with ADWATCH_INDEX_PREFIX=demo: `adwatch status`, "
              "`adwatch cluster <id>`, `adwatch search --phone ...` (or `make demo KEEP_ENGINE=1` to leave the "
              "engine up).\n"
              f"    Dashboards: start Kibana on this data (docker-compose.yml, README), then `adwatch dashboards "
              f"import --kibana http://127.0.0.1:5601 --file {kibana}` or Stack Management > Saved objects > Import.")
    return 0


def register(demo_sub) -> None:
    run = demo_sub.add_parser("run", help="the whole job on a demo world: crawl, enrich, cluster, evaluate")
    run.add_argument("--out", default="out/demo", help="folder for the world, images and results")
    run.add_argument("--ads", type=int, default=2000)
    run.add_argument("--seed", type=int, default=7)
    run.add_argument("--keep-engine", action="store_true", help="leave the embedded Elasticsearch running")
    run.add_argument("--on-cluster", action="store_true",
                     help="run on the cluster ADWATCH_ES_URL names instead of the embedded node (deletes demo-* there; asks)")
    run.add_argument("--yes", action="store_true", help="with --on-cluster: do not ask")
    run.set_defaults(func=lambda a: run_demo(Path(a.out), a.ads, a.seed, a.keep_engine, a.on_cluster, a.yes))
