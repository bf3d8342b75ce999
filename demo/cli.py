"""`adwatch demo generate` and `adwatch demo serve`: argparse wiring only; the work is in generator / server."""

from __future__ import annotations

import argparse
import signal
import sys

from demo.family import EVASIONS, FAMILIES, LANGUAGES
from demo.world import WorldError

_SWITCHES = (  # (flag, Switches field, help)
    ("--no-obfuscation", "obfuscation", "show phone numbers plainly"),
    ("--no-text-noise", "text_noise", "no typos, emoji, leetspeak or shuffled sentences"),
    ("--no-image-variation", "image_variation", "reuse each base photo unchanged"),
    ("--no-hard-negatives", "hard_negatives", "no shared boilerplate, stock photo or placeholder phones"),
    ("--no-faults", "faults", "plan no malformed pages, 5xx, slow ads, redirects, corrupt or oversized images"),
)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `generate` and `serve` to a subparsers group; each sets func(args) -> exit code."""
    generate = subparsers.add_parser("generate", help="write a reproducible demo world with ground truth",
                                     description="Write ads.jsonl, truth.jsonl, images/ and world.json to DIR.")
    generate.add_argument("--ads", type=int, required=True, metavar="N", help="number of ads")
    generate.add_argument("--seed", type=int, default=1, metavar="S", help="random seed (same seed -> same world)")
    generate.add_argument("--out", required=True, metavar="DIR", help="world directory (created; an earlier world is replaced)")
    generate.add_argument("--days", type=int, default=60, help="length of the world in days (default 60)")
    generate.add_argument("--controller-share", type=float, default=0.3, help="share of ads posted by controllers (0.3)")
    generate.add_argument("--workers", type=int, default=None, help="image worker processes (default: all CPUs)")
    for flag, name, text in _SWITCHES:
        generate.add_argument(flag, dest=name, action="store_false", help=text)
    families = generate.add_argument_group("world families", "departures from the baseline world, combinable")
    families.add_argument("--family", default="baseline", metavar="F[,F...]",
                          help=f"one or more of {', '.join(FAMILIES)} (default baseline: the same world as ever)")
    families.add_argument("--languages", type=_names(LANGUAGES), default=None, metavar="L[,L...]",
                          help=f"multilingual: languages posters write in (default {','.join(LANGUAGES)}; en required)")
    families.add_argument("--evasive-share", type=float, default=None, metavar="X",
                          help="evasive: share of controllers that evade (default 0.3)")
    families.add_argument("--evasive-kinds", type=_names(EVASIONS), default=None, metavar="K[,K...]",
                          help=f"evasion kinds drawn from / cycled by planted controllers: {', '.join(EVASIONS)}")
    families.add_argument("--evasive-sizes", type=_sizes, default=None, metavar="N[,N...]",
                          help="plant one evasive controller of each size (e.g. 5,20,100,300), in any family")
    families.add_argument("--partial-share", type=float, default=None, metavar="X",
                          help="partial: share of the world's ads written (default 0.1; --ads is the whole world)")
    families.add_argument("--drift", dest="drift", action="store_true", default=None,
                          help="controllers switch phones, photos, handles and wording over time (default: with partial)")
    families.add_argument("--no-drift", dest="drift", action="store_false",
                          help="partial: sample the baseline world as it is (every line a baseline line)")
    families.add_argument("--no-city-share", type=float, default=None, metavar="X",
                          help="no-country: share of ads without a city either (default 0.15)")
    families.add_argument("--no-extra-hard-negatives", dest="extra_hard_negatives", action="store_false", default=None,
                          help="family worlds: no agency switchboards, extra stock photos or site templates")
    generate.set_defaults(func=run_generate)

    serve = subparsers.add_parser("serve", help="serve a demo world as two classifieds sites on 127.0.0.1",
                                  description="HTML flavour under /html/ (site demo-html), JS flavour under /js/ (demo-js).")
    serve.add_argument("--world", required=True, metavar="DIR", help="world directory made by `demo generate`")
    serve.add_argument("--port", type=int, default=8765, metavar="P", help="port on 127.0.0.1 (default 8765, 0 = any)")
    serve.add_argument("--day", type=int, default=None, metavar="K", help="show the world as of day K (default: last day)")
    serve.add_argument("--rate-limit", type=float, default=20.0, metavar="R",
                       help="requests/s per client before 429 + Retry-After (default 20, 0 = off)")
    serve.add_argument("--burst", type=int, default=40, help="requests a client may make at once (default 40)")
    serve.add_argument("--crawl-delay", type=float, default=0.2, help="Crawl-delay announced in robots.txt (default 0.2)")
    serve.add_argument("--slow-ms", type=int, default=500, help="delay for ads with the slow fault (default 500)")
    serve.add_argument("--page-size", type=int, default=20, help="ads per listing page (default 20)")
    serve.add_argument("--no-faults", dest="faults", action="store_false",
                       help="no rate limit, 5xx, slow ads, malformed pages, redirects or Crawl-delay (for benchmarks)")
    serve.add_argument("--access-log", default=None, metavar="FILE", help="append one JSON line per request to FILE")
    serve.set_defaults(func=run_serve)


def run_generate(args: argparse.Namespace) -> int:
    from demo.generator import generate_world

    switches = {name: getattr(args, name) for _, name, _ in _SWITCHES}
    params = {name: getattr(args, name) for name in _FAMILY_FLAGS if getattr(args, name) is not None}
    try:
        summary = generate_world(args.out, args.ads, args.seed, workers=args.workers, family=args.family,
                                 days=args.days, controller_share=args.controller_share, **switches, **params)
    except (WorldError, ValueError) as err:
        print(f"adwatch demo generate: {err}", file=sys.stderr)
        return 2
    whole = (f", a {summary.n_ads / summary.world_ads:.1%} sample of a {summary.world_ads}-ad world"
             if summary.world_ads != summary.n_ads else "")
    print(f"wrote {summary.family} world: {summary.n_ads} ads{whole} (the world: {summary.controller_ads} ads by "
          f"{summary.n_controllers} controllers, {summary.n_independent_posters} independent posters), "
          f"{summary.n_images} images over {summary.days} days to {summary.out_dir} in {summary.seconds:.1f}s")
    return 0


_FAMILY_FLAGS = ("languages", "evasive_share", "evasive_kinds", "evasive_sizes", "partial_share", "drift",
                 "no_city_share", "extra_hard_negatives")


def _names(allowed: tuple[str, ...]):
    def parse(text: str) -> list[str]:
        names = [part.strip() for part in text.split(",") if part.strip()]
        unknown = [name for name in names if name not in allowed]
        if unknown or not names:
            raise argparse.ArgumentTypeError(f"{unknown[0] if unknown else text!r} is not one of {', '.join(allowed)}")
        return names
    return parse


def _sizes(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of ad counts, e.g. 5,20,100,300") from None


def run_serve(args: argparse.Namespace) -> int:
    from demo.server import create_server

    try:
        server = create_server(args.world, args.port, args.day, rate_limit=args.rate_limit, burst=args.burst,
                               crawl_delay=args.crawl_delay, faults=args.faults, page_size=args.page_size,
                               slow_ms=args.slow_ms, access_log_path=args.access_log, keep_log=False)
    except (WorldError, ValueError) as err:
        print(f"adwatch demo serve: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        print(f"adwatch demo serve: cannot listen on 127.0.0.1:{args.port} ({err}); pick another --port",
              file=sys.stderr)
        return 2
    print(f"serving {args.world} (day {server.day} of 0..{server.world.days - 1}) at {server.url}/html/ "
          f"(demo-html) and {server.url}/js/ (demo-js); Ctrl-C stops", flush=True)
    signal.signal(signal.SIGTERM, _stop_on_signal)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


def _stop_on_signal(signum, frame):
    raise KeyboardInterrupt  # SIGTERM stops the server the same way Ctrl-C does: access log closed cleanly


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m demo", description="AdWatch demo world: generate and serve.")
    register(parser.add_subparsers(dest="command", required=True))
    return parser
