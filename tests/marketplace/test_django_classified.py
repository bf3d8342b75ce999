"""django-classified, a real third-party marketplace, crawled with the shipped definition.

The site serves the html half of a demo world (loaded through the app's models); what the crawl
stores is checked against that world: fields, photos, no related-ad content, what `sites check`
reports, clusters after enrichment (against the same ads crawled from the demo marketplace), and
an incremental recrawl after edits, removals and new ads made through the app's models. The last
test changes the site, so it stays last.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

from classified import FAST, SITE
from crawl_helpers import ROOT, deployment, point_at

from demo.server import start_server
from enrich.cli import evaluate_index
from enrich.worker import Worker

FILLED = ("title", "body", "price", "currency", "city", "country", "posted_at")


def by_world_id(crawler, site) -> dict[str, dict | None]:
    docs = crawler.ads(SITE)
    return {world_id: docs.get(str(pk)) for world_id, pk in site.items.items()}


def share(docs: dict[str, dict | None], holds) -> float:
    return sum(1 for world_id, doc in docs.items() if doc and holds(world_id, doc)) / len(docs)


def test_every_ad_is_stored_with_the_fields_the_site_shows(classified_crawl, classified_site):
    docs = by_world_id(classified_crawl, classified_site)
    shown = classified_site.shown
    assert len(docs) > 150
    for name in FILLED:
        assert share(docs, lambda w, d: d.get(name) not in (None, "", [])) >= 0.99, name
    assert share(docs, lambda w, d: d["title"] == shown[w]["title"]) >= 0.99
    assert share(docs, lambda w, d: d["body"] == shown[w]["body"]) >= 0.99
    assert share(docs, lambda w, d: d["price"] == shown[w]["price"]) >= 0.99
    # The app has one currency for the whole site (USD here): right for the world's USD ads, and the
    # page's own word for the others.
    assert share(docs, lambda w, d: d["currency"] == "USD") == 1.0
    assert share(docs, lambda w, d: d["city"] == shown[w]["city"]) >= 0.99
    assert share(docs, lambda w, d: d["country"] == shown[w]["country"] and d["country_source"] == "page") >= 0.99
    assert share(docs, lambda w, d: d["category"] == shown[w]["category"]) >= 0.99
    # "Posted: 3 weeks, 6 days ago": right to the day.
    assert share(docs, lambda w, d: abs(dt.datetime.fromisoformat(d["posted_at"]) - shown[w]["posted"])
                 < dt.timedelta(days=1)) >= 0.99
    # Every photo, full size, byte for byte what was uploaded (some of the world's ads have none).
    with_photos = {w: d for w, d in docs.items() if shown[w]["photos"]}
    assert share(with_photos, lambda w, d: d.get("images")) >= 0.99
    assert share(docs, lambda w, d: sorted(i.get("sha256") for i in d.get("images", []))
                 == sorted(shown[w]["photos"])) >= 0.99


def test_no_stored_ad_carries_related_ads_or_page_furniture(classified_crawl, classified_site):
    docs = by_world_id(classified_crawl, classified_site)
    shown = classified_site.shown
    titles = {w: s["title"] for w, s in shown.items()}
    for world_id, doc in docs.items():
        text = " ".join(doc.get(k) or "" for k in ("title", "body", "contact_text", "city", "region", "category"))
        assert "Related items" not in text and "…" not in text and "Powered by" not in text, world_id
        own = shown[world_id]["body"] + shown[world_id]["title"]
        foreign = [t for w, t in titles.items() if w != world_id and len(t.split()) >= 3 and t in text and t not in own]
        assert not foreign, (world_id, foreign[:2])
        assert {i.get("sha256") for i in doc.get("images", [])} <= set(shown[world_id]["photos"]), world_id


def check(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "adwatch.cli", "sites", "check", *args, "--json", *FAST],
                          env=env, capture_output=True, text=True, timeout=300, cwd=ROOT)


def test_sites_check_shows_full_fields_on_the_shipped_definition(classified_crawl):
    done = check(classified_crawl.env, SITE, "--sample", "12")
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert len(report["pages"]) == 12
    for name in ("ad_id", "title", "body", "price", "currency", "city", "country", "posted_at", "category"):
        assert report["fields"][name]["rate"] == 1.0, name
        assert not report["fields"][name]["suspicious"], (name, report["fields"][name]["suspicious"][:2])
    page = report["pages"][0]
    assert page["sources"]["title"] == "auto" and page["sources"]["ad_id"] == "url"


SLOPPY = """
site: sloppy
start_urls: ["${ADWATCH_DJANGO_CLASSIFIED_URL}/"]
allowed_domains: ["127.0.0.1"]
listing:
  follow: ["css:li.dcf-group a::attr(href)"]
  entry: "css:table.table tbody tr"
  link: "css:td a::attr(href)"
detail:
  ad_id: {url: '/(\\d+)-'}
  body: "css:div.container"
  location: "css:p.dcf-eyebrow"
  posted_at: "css:p.dcf-eyebrow"
"""


def test_sites_check_names_what_a_sloppy_definition_gets_wrong(classified_crawl, tmp_path):
    path = tmp_path / "sloppy.yaml"
    path.write_text(SLOPPY)
    done = check(classified_crawl.env, str(path), "--sample", "6")
    assert done.returncode == 0, done.stderr[-2000:]
    fields = json.loads(done.stdout)["fields"]
    why = {name: {s["why"].split(":")[0] for s in f["suspicious"]} for name, f in fields.items()}
    assert "boilerplate" in why["body"]  # header, related items and footer captured with every ad
    assert "date not understood" in why["posted_at"]
    assert "the location names no country" in why["country"]


def test_clusters_score_like_the_same_ads_crawled_from_the_demo_marketplace(
        es_settings, classified_crawl, classified_site, market_world, market_truth, tmp_path):
    poster = {t["ad_id"]: t["poster_id"] for t in market_truth}
    Worker(classified_crawl.store, classified_crawl.cache_dir / "images").run()
    ours = evaluate_index(classified_crawl.store,
                          {f"{SITE}:{pk}": poster[w] for w, pk in classified_site.items.items()})
    market = start_server(market_world, port=0, rate_limit=0, crawl_delay=0, faults=False, slow_ms=0)
    try:
        with deployment(es_settings, tmp_path / "demo") as demo:
            done = point_at(demo, market).crawl("demo-html", *FAST)
            assert done.returncode == 0, done.stderr[-2000:]
            Worker(demo.store, demo.cache_dir / "images").run()
            theirs = evaluate_index(demo.store, {f"demo-html:{w}": poster[w] for w in classified_site.items})
    finally:
        market.stop()
    assert ours.ads == theirs.ads == len(classified_site.items)
    assert theirs.true_clusters > 5
    assert abs(ours.pairwise_f1 - theirs.pairwise_f1) <= 0.02, (ours, theirs)


def test_recrawl_counts_edits_removals_and_new_ads_made_through_the_models(classified_crawl, classified_site,
                                                                           market_world):
    from django_classified.models import Item

    from classified import add_items

    pks = sorted(classified_site.items.values())
    edited, deactivated, deleted = pks[:3], pks[3:5], pks[5:7]
    for pk in edited:
        item = Item.objects.get(pk=pk)
        item.price += 7
        item.description += " Price lowered, ask now."
        item.save()
    Item.objects.filter(pk__in=deactivated).update(is_active=False)
    Item.objects.filter(pk__in=deleted).delete()
    added = add_items(market_world, flavour="js", count=2)

    done = classified_crawl.crawl(SITE, *FAST)
    assert done.returncode == 0, done.stderr[-2000:]
    run = classified_crawl.runs(SITE)[-1]
    assert {k: run["items"][k] for k in ("new", "changed", "removed")} == {"new": 2, "changed": 3, "removed": 4}
    docs = classified_crawl.ads(SITE)
    for pk in edited:
        item = Item.objects.get(pk=pk)
        assert docs[str(pk)]["price"] == float(item.price) and docs[str(pk)]["body"] == item.description
        assert docs[str(pk)]["edits"] == 1
    for pk in deactivated + deleted:
        assert docs[str(pk)]["status"] == "removed"
    for pk, title in added.items():
        assert docs[str(pk)]["title"] == title and docs[str(pk)]["status"] == "active"
