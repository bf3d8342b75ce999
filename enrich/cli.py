"""`adwatch enrich`, `adwatch recluster`, `adwatch evaluate`: the enrich stage's commands."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from rich.console import Console
from rich.table import Table

from adwatch.config import load_settings
from adwatch.errors import UserError
from adwatch.store import Store, connect

out = Console()
log = logging.getLogger(__name__)


def _store() -> tuple[Store, Path]:
    settings = load_settings()
    store = Store(connect(settings), settings.index_prefix)
    store.ensure_schema()
    return store, settings.image_dir


def _run(args: argparse.Namespace, everything: bool, rebuild: bool, recut: bool = False) -> int:
    from enrich.comparison import rules_from
    from enrich.parallel import engine_for
    from enrich.worker import Worker  # numpy, Pillow, RapidFuzz: only for the commands that link

    rules = rules_from(load_settings().linking)
    store, images = _store()
    purpose = "adwatch recluster" if (rebuild or recut) and not everything else "adwatch enrich"
    with engine_for(args.workers, args.scheduler) as engine:
        report = Worker(store, images, rules=rules, engine=engine).run(everything, rebuild, recut, purpose=purpose)
    out.print(f"Enriched {report.enriched} ads ({report.enrich_errors} with recorded errors); linked "
              f"{report.linked_ads} ads into {report.clusters} clusters; updated {report.ads_updated} ads and "
              f"{report.clusters_written} clusters, retired {report.clusters_deleted} merged clusters.")
    if report.link_stats:
        out.print(f"Linking: {report.link_stats}")
    return 0


def _enrich(args: argparse.Namespace) -> int:
    return _run(args, everything=args.all, rebuild=False)


def _recluster(args: argparse.Namespace) -> int:
    return _run(args, everything=False, rebuild=args.recompare, recut=not args.recompare)


def read_truth(path: Path) -> dict[str, str]:
    """ad document id ('<site>:<ad_id>') -> true poster, from a demo world's truth.jsonl."""
    if not path.is_file():
        raise UserError(f"{path}: no such truth file; give the truth.jsonl of the world you crawled.")
    truth = {}
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            try:
                record = json.loads(line)
                truth[f"{record['site']}:{record['ad_id']}"] = record["poster_id"]
            except (ValueError, KeyError) as exc:
                raise UserError(f"{path}:{number}: not a truth record ({exc}); expected JSON with site, ad_id, "
                                "poster_id.") from exc
    return truth


def evaluate_index(store: Store, truth: dict[str, str]):
    from enrich.evaluation import score

    predicted, links = {}, {"identifier": set(), "text": set(), "image": set()}
    for hit in store.scan(store.ads, {"term": {"enrich.status": "done"}}, source=["cluster_id", "links"]):
        src = hit["_source"]
        predicted[hit["_id"]] = src.get("cluster_id") or hit["_id"]
        for record in src.get("links", []):
            if not record.get("suppressed"):
                links[record["evidence"]].add(tuple(sorted((hit["_id"], record["ad"]))))
    return score(predicted, truth, links)


def _evaluate(args: argparse.Namespace) -> int:
    truth = read_truth(Path(args.truth))
    store, _ = _store()
    s = evaluate_index(store, truth)
    if s.ads == 0:
        raise UserError("No enriched ad in the index matches the truth file: crawl and `adwatch enrich` first.")
    table = Table(title=f"Clustering vs truth ({s.ads} ads)")
    for column in ("measure", "precision", "recall", "F1"):
        table.add_column(column, justify="right" if column != "measure" else "left")
    table.add_row("pairwise", f"{s.pairwise_precision:.3f}", f"{s.pairwise_recall:.3f}", f"{s.pairwise_f1:.3f}")
    table.add_row("B-cubed", f"{s.bcubed_precision:.3f}", f"{s.bcubed_recall:.3f}", f"{s.bcubed_f1:.3f}")
    out.print(table)
    out.print(f"Clusters (size >= 2): predicted {s.predicted_clusters}, true {s.true_clusters}. Largest predicted "
              f"{s.largest_predicted} ads (purity {s.largest_predicted_purity:.2f}), largest true {s.largest_true}.")
    for kind, e in s.evidence.items():
        out.print(f"  {kind:10s} links {e['links']:7d}  precision {e['precision']:.3f}")
    if args.json:
        Path(args.json).write_text(json.dumps(s.__dict__, indent=2))
    return 0


def _engine_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workers", type=int, default=1,
                        help="enrich and compare on a local Dask cluster of N worker processes (default 1: this process)")
    parser.add_argument("--scheduler", metavar="ADDRESS", default=None,
                        help="enrich and compare on the workers of this Dask scheduler (tcp://host:8786); "
                             "every worker must read the image directory at the same path")


def register(sub) -> None:
    enrich = sub.add_parser("enrich", help="enrich pending ads, link them and update clusters")
    enrich.add_argument("--all", action="store_true", help="re-enrich every ad, not only pending ones")
    _engine_options(enrich)
    enrich.set_defaults(func=_enrich)
    recluster = sub.add_parser("recluster", help="rebuild every link and cluster with the current thresholds, "
                                                 "re-cutting the stored text score table")
    recluster.add_argument("--recompare", action="store_true",
                           help="compare every candidate text pair again instead of reading the stored scores")
    _engine_options(recluster)
    recluster.set_defaults(func=_recluster)
    evaluate = sub.add_parser("evaluate", help="score clusters against a demo world's truth")
    evaluate.add_argument("--truth", required=True, help="DIR/truth.jsonl of the crawled world")
    evaluate.add_argument("--json", help="also write the scores to this file")
    evaluate.set_defaults(func=_evaluate)
