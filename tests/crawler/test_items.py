"""Pure pieces of the crawler: validation, URLs, content hashes, images, Retry-After."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from crawler.imagestore import ImageStore, inspect_image
from crawler.items import CrawledAd, normalise_url, validate
from crawler.middlewares import parse_retry_after


def jpeg(width=64, height=48) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (height, width, 3), dtype=np.uint8)).save(buf, "JPEG")
    return buf.getvalue()


def test_invalid_item_reports_every_problem():
    ad = CrawledAd(site="s", ad_id="bad id!", url="http://elsewhere.example.org/x", title="", body="")
    problems = validate(ad, ["127.0.0.1"])
    assert len(problems) == 4


def test_oversized_body_is_capped_and_noted():
    ad = CrawledAd(site="s", ad_id="A1", url="http://127.0.0.1/a", title="t", body="x" * 100_000)
    assert validate(ad, ["127.0.0.1"]) == []
    assert len(ad.body) == 50_000 and ad.notes


def test_urls_are_normalised():
    assert normalise_url("../ad/7#top", "HTTP://127.0.0.1:8765/html/list/") == "http://127.0.0.1:8765/html/ad/7"


def test_content_hash_changes_with_price_not_with_listing_key():
    a = CrawledAd(site="s", ad_id="A", url="u", title="t", body="b", price=10, listing_key="k1")
    b = CrawledAd(site="s", ad_id="A", url="u", title="t", body="b", price=10, listing_key="k2")
    c = CrawledAd(site="s", ad_id="A", url="u", title="t", body="b", price=11)
    assert a.content_hash() == b.content_hash() != c.content_hash()


def test_good_image_is_measured_and_stored_once(tmp_path):
    data = jpeg()
    facts = inspect_image(data)
    assert (facts.width, facts.height, facts.error) == (64, 48, None)
    store = ImageStore(tmp_path)
    rel, wrote = store.put(data, facts)
    assert wrote and (tmp_path / rel).read_bytes() == data and facts.sha256 in rel
    assert store.put(data, facts) == (rel, False)


def test_corrupt_truncated_and_bomb_images_are_errors():
    assert inspect_image(b"not an image at all").problem == "not_an_image"
    assert inspect_image(jpeg(640, 480)[:600]).problem == "corrupt"
    buf = io.BytesIO()
    Image.new("L", (9000, 9000)).save(buf, "PNG")  # 81 Mpx of zeros compresses to almost nothing
    assert inspect_image(buf.getvalue()).problem == "too_many_pixels"
    assert inspect_image(jpeg(), max_bytes=100).problem == "too_large"


def test_retry_after_in_seconds_and_as_http_date():
    assert parse_retry_after(b"7") == 7.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
    assert parse_retry_after("soon") is None
