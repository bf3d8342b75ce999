"""`adwatch search` and `adwatch cluster`: the analyst's doors from the terminal.

Read-only: nothing here writes to the index. Tables are drawn with rich; titles are cut short
and ad bodies never printed, so a terminal scroll-back or a log holds no more of an ad than
its first words.
"""

from __future__ import annotations

import argparse

from rich import box
from rich.console import Console
from rich.table import Table

from adwatch.config import load_settings
from adwatch.store import Store, connect

out = Console()

IDENTIFIERS_SHOWN = 20
HUBS_SHOWN = 10
LISTED = 8  # cities, sites, merged ids listed in the header before "+N more"
TEMPLATE_CHARS = 400
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MAX_LIMIT = 10_000  # Elasticsearch's default result window
WIDE = 110
"""Terminal columns from which ad tables show one ad per line (grep-able); narrower ones stack pairs of fields."""


def _store() -> Store:
    settings = load_settings()
    return Store(connect(settings), settings.index_prefix)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def _limit(text: str) -> int:
    value = _positive(text)
    if value > MAX_LIMIT:
        raise argparse.ArgumentTypeError(f"at most {MAX_LIMIT} (narrow the search with filters instead)")
    return value


def _table(title: str) -> Table:
    return Table(title=title, title_justify="left", box=box.SIMPLE_HEAD)


def ad_table(title: str, groups: list[tuple[str, ...]], rows: list[list[tuple[str, ...]]]) -> Table:
    """A table of ads whose fields come in `groups`: side by side on a wide terminal, stacked per group on a narrow one.

    Each row gives one tuple of cells per group. The last group may wrap; the others stay on their lines.
    """
    wide = out.width >= WIDE
    table = _table(title)
    for g, group in enumerate(groups):
        last = g == len(groups) - 1
        for name in group if wide else ["\n".join(group)]:
            table.add_column(name, no_wrap=not last, overflow="ellipsis")
    for row in rows:
        table.add_row(*(cell for cells in row for cell in cells) if wide else ["\n".join(cells) for cells in row])
    return table


def _listed(values: list[str], n: int = LISTED) -> str:
    if not values:
        return "—"
    more = f" (+{len(values) - n} more)" if len(values) > n else ""
    return ", ".join(values[:n]) + more


# ------------------------------------------------------------------ adwatch search


def _search(args: argparse.Namespace) -> int:
    from dashboards.lookup import (  # enrich's phone tables, Pillow and numpy load only for this command
        SearchRequest, check_country, check_site, email_keys, handle_keys, read_phone, read_photo, search_ads,
    )
    from dashboards.lookup_cluster import find_cluster, require_ads

    if not (args.query.strip() or args.phone or args.email or args.handle or args.image or args.cluster
            or args.site):
        args.usage_error("give a QUERY or at least one of --phone, --email, --handle, --image, --cluster, --site")
    country = check_country(args.country) if args.country else None
    emails = tuple(email_keys(args.email)) if args.email else ()
    handles = tuple(handle_keys(args.handle)) if args.handle else ()
    photo = read_photo(args.image) if args.image else None
    store = _store()
    require_ads(store)
    readings = read_phone(store, args.phone, country) if args.phone else {}
    if args.cluster:
        find_cluster(store, args.cluster)
    if args.site:
        check_site(store, args.site)
    request = SearchRequest(args.query, tuple(readings), emails, handles, photo, args.cluster, args.site, args.limit)
    result = search_ads(store, request)
    if args.phone:
        out.print(phone_note(args.phone, readings, {w for m in result.matches for w in m.why}), highlight=False)
    if not result.total:
        out.print("No ad matches.")
        return 1
    out.print(_results_table(result))
    if result.total > len(result.matches):
        out.print(f"Showing the best {len(result.matches)} of {result.total}; raise --limit or add filters.")
    return 0


def phone_note(typed: str, readings: dict[str, str], reasons: set[str]) -> str:
    def named(key: str) -> str:
        return f"{key} ({readings[key]})" if readings[key] else key

    if len(readings) == 1:
        return f"Phone {typed!r} read as {named(next(iter(readings)))}."
    found = [named(k) for k in readings if f"phone {k}" in reasons]
    if found:
        return f"Phone {typed!r} read for each indexed country; found as {', '.join(found)} (narrow with --country)."
    return f"Phone {typed!r} read for each indexed country as {', '.join(map(named, readings))}."


def _results_table(result) -> Table:
    groups = [("ad id", "site"), ("first seen", "city"), ("cluster",), ("title", "why it matched")]
    rows = [[(m.ad_id, m.site), (m.first_seen, m.city), (m.cluster_id or "—",), (m.title, "; ".join(m.why))]
            for m in result.matches]
    return ad_table(f"{result.total} ad(s) match", groups, rows)


# ------------------------------------------------------------------ adwatch cluster


def _cluster(args: argparse.Namespace) -> int:
    from dashboards.lookup_cluster import activity, choose_page, load_cluster

    view = load_cluster(_store(), args.id)
    page = choose_page(view.ads, args.page_size, args.page, args.all)
    doc = view.cluster
    out.print(_header(doc, len(view.ads)))
    _print_identifiers(doc.get("identifiers", []))
    _print_evidence(doc.get("evidence", {}), view.hubs)
    _print_template(doc)
    if len(page.head) + len(page.tail) < len(view.ads) or args.all:
        out.print(_activity_table(*activity([ad.day for ad in view.ads])))
    out.print(_timeline_table(page))
    out.print(_page_note(page, len(view.ads), args.page_size), highlight=False)
    return 0


def _header(doc: dict, ads_found: int) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    first, last = (doc.get("first_seen") or "")[:10], (doc.get("last_seen") or "")[:10]
    grid.add_row("Cluster", f"{doc['cluster_id']}: {doc.get('size', ads_found)} ads")
    grid.add_row("Sites", _listed(doc.get("sites", [])))
    grid.add_row("Cities", _listed(doc.get("cities", [])))
    grid.add_row("Countries", _listed(doc.get("countries", [])))
    grid.add_row("First / last seen", f"{first} → {last}")
    if doc.get("created_at"):
        grid.add_row("Created", doc["created_at"][:19])
    grid.add_row("Updated", (doc.get("updated_at") or "—")[:19])
    grid.add_row("Merged from", _listed(doc.get("merged_from", [])))
    grid.add_row("Representative ad", doc.get("representative_ad") or "—")
    return grid


def _print_identifiers(identifiers: list[dict]) -> None:
    if not identifiers:
        out.print("No identifier is shared by two or more of its ads.")
        return
    table = _table("Shared identifiers")
    table.add_column("kind")
    table.add_column("value", no_wrap=True)
    table.add_column("ads", justify="right")
    for ident in identifiers[:IDENTIFIERS_SHOWN]:
        table.add_row(ident["kind"], ident["value"], str(ident["ads"]))
    out.print(table)
    if len(identifiers) > IDENTIFIERS_SHOWN:
        out.print(f"(+{len(identifiers) - IDENTIFIERS_SHOWN} more shared identifiers)")


def _print_evidence(evidence: dict, hubs: list[tuple[str, int]]) -> None:
    table = _table("Evidence by type (links between its ads)")
    for kind in ("identifier", "image", "text", "suppressed"):
        table.add_column("suppressed by hubs" if kind == "suppressed" else kind, justify="right")
    table.add_row(*(str(evidence.get(kind, 0)) for kind in ("identifier", "image", "text", "suppressed")))
    out.print(table)
    for note, members in hubs[:HUBS_SHOWN]:
        out.print(f"  {note} (touches {members} of these ads)", highlight=False)
    if len(hubs) > HUBS_SHOWN:
        out.print(f"  (+{len(hubs) - HUBS_SHOWN} more hubs)")


def _print_template(doc: dict) -> None:
    template = doc.get("template")
    if not template:
        out.print("No text template: no two of its ads were linked by text.")
        return
    shown = template if len(template) <= TEMPLATE_CHARS else template[: TEMPLATE_CHARS - 1] + "…"
    out.print("[bold]Template[/] (slots in <angle brackets>; <*> varies between ads):")
    out.print(f"  {shown}", highlight=False, markup=False)
    slots = [slot for slot in doc.get("slots", []) if slot.get("values")]
    if slots:
        table = _table("Slot values seen")
        table.add_column("slot")
        table.add_column("sample values")
        for slot in slots:
            table.add_row(slot["name"], ", ".join(slot["values"]))
        out.print(table)


def _activity_table(granularity: str, rows: list) -> Table:
    if granularity == "week":
        table = _table("Ads first seen per day")
        table.add_column("week of")
        for day in WEEKDAYS:
            table.add_column(day, justify="right")
        table.add_column("total", justify="right")
        for monday, counts in rows:
            table.add_row(monday, *(str(n) if n else "·" for n in counts), str(sum(counts)))
        return table
    table = _table("Ads first seen per month")
    for name in ("month", "ads", "active days"):
        table.add_column(name, justify="left" if name == "month" else "right")
    for month, (ads, days) in rows:
        table.add_row(month, str(ads), str(days))
    return table


def _timeline_table(page) -> Table:
    def row(ad) -> list[tuple[str, ...]]:
        return [(ad.day, ad.site), (ad.ad_id, ad.city), (ad.title, ad.linked or "—")]

    rows = [row(ad) for ad in page.head]
    if page.hidden:
        rows.append([("…", ""), ("", ""), (f"{page.hidden} more ads", "")])
    rows += [row(ad) for ad in page.tail]
    return ad_table("Ads, oldest first", [("first seen", "site"), ("ad id", "city"), ("title", "linked by")], rows)


def _page_note(page, total: int, page_size: int) -> str:
    if page.number is not None:
        start = (page.number - 1) * page_size + 1
        return (f"Ads {start}–{start + len(page.head) - 1} of {total} (page {page.number} of {page.pages}); "
                "--page N for another, --all for every ad.")
    if page.hidden:
        return (f"First {len(page.head)} and last {len(page.tail)} of {total} ads; --page N (pages of {page_size}), "
                "--page-size M or --all for the rest.")
    return f"All {total} ads."


# ------------------------------------------------------------------ wiring


def register(sub) -> None:
    search = sub.add_parser("search", help="find ads by text, phone, email, handle or photo, with filters",
                            description="Filters combine: every part given must hold.")
    search.add_argument("query", nargs="?", default="", help="words that must all appear (leetspeak-folded too)")
    search.add_argument("--phone", help="a phone number in any form: '(617) 513-3818', '+44 20 ...', 'six one ...'")
    search.add_argument("--country", help="ISO country (US, GB, ...) to read a national --phone; default: every "
                                          "country of the indexed ads")
    search.add_argument("--email", help="an email address, also spelled out ('jane at mail dot com')")
    search.add_argument("--handle", help="a messaging handle: telegram:@name, t.me/name, or @name (any platform)")
    search.add_argument("--image", metavar="FILE", help="a photo: finds ads carrying the same or a near-duplicate photo")
    search.add_argument("--cluster", metavar="ID", help="only ads of this cluster")
    search.add_argument("--site", help="only ads of this site (e.g. demo-html)")
    search.add_argument("--limit", type=_limit, default=20, help="ads to list (default 20)")
    search.set_defaults(func=_search, usage_error=search.error)

    cluster = sub.add_parser("cluster", help="show a cluster: shared identifiers, evidence, template, ads in time")
    cluster.add_argument("id", help="cluster id, e.g. c026aab02f1f6 (see `adwatch search`)")
    cluster.add_argument("--page", type=_positive, help="show this page of its ads (oldest first)")
    cluster.add_argument("--page-size", type=_positive, default=20, help="ads per page (default 20)")
    cluster.add_argument("--all", action="store_true", help="list every ad of the cluster")
    cluster.set_defaults(func=_cluster)
