"""Index mappings, written once with elasticsearch.dsl; templates and indices are built from them.

Three kinds of index, each behind an alias so readers never see a version or a partition:
- ads:      alias `<prefix>-ads`, monthly partitions `<prefix>-ads-v<N>-YYYY.MM` (by first_seen), so
            retention is "delete old partitions";
- clusters: alias `<prefix>-clusters` -> `<prefix>-clusters-v<N>`;
- runs:     alias `<prefix>-runs` -> `<prefix>-runs-v<N>`;
- leases:   alias `<prefix>-leases` -> `<prefix>-leases-v<N>` (one document per lease, adwatch/lease.py).
- crawl-leases: alias `<prefix>-crawl-leases` -> `<prefix>-crawl-leases-v<N>` (one lease per site being crawled).
Roots are `dynamic: strict`: a misspelt field is an indexing error, not a silently new field.
Only server-core field types are used, so the minimal distribution and a full cluster behave alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from elasticsearch.dsl import (
    Boolean, Date, Document, Double, Float, GeoPoint, InnerDoc, Integer, Keyword, Long, MetaField,
    Object, Text,
)

REFRESH_INTERVAL = "1s"  # how soon a crawled ad is searchable
BULK_REFRESH_INTERVAL = "30s"
"""The ads indices' interval while an enrich run rewrites them (`Store.refreshing_rarely`): each
refresh makes a segment to merge, and at one a second the node spent twice the CPU on 100k
enrichment updates (bench/es_refresh.py; the run refreshes itself where it reads back)."""

# Bump a kind's version when its mapping changes incompatibly; `Store.migrate` copies to the new one.
VERSIONS = {"ads": 1, "clusters": 1, "runs": 1, "leases": 1, "crawl-leases": 1}


class ImageRef(InnerDoc):
    url = Keyword()
    sha256 = Keyword()
    path = Keyword(index=False)
    bytes = Long()
    width = Integer()
    height = Integer()
    phash = Keyword()
    dhash = Keyword()
    phash_flip = Keyword()
    dhash_flip = Keyword()
    # Multi-index keys ("<part>:<hex>") for Hamming-radius search without scanning every hash.
    hash_bands = Keyword()
    # Blank or near-uniform pictures all hash alike: kept, but never used as evidence.
    low_detail = Boolean()
    error = Keyword()


class Contact(InnerDoc):
    kind = Keyword()  # phone | email | handle | url
    value = Keyword(ignore_above=512)
    normalised = Keyword()
    field = Keyword()  # which text field start/end point into (title, body, contact_text)
    start = Integer()
    end = Integer()
    placeholder = Boolean()


class Link(InnerDoc):
    ad = Keyword()
    evidence = Keyword()  # identifier | text | image
    score = Float()
    detail = Keyword(ignore_above=512)
    suppressed = Boolean()  # true when a hub or a refused bridge dropped this evidence
    suppressed_by = Keyword()  # hub | bridge
    photos = Integer()  # image evidence: index of the matching photo on this ad, then on the other


class EnrichError(InnerDoc):
    stage = Keyword()
    reason = Text(fields={"raw": Keyword(ignore_above=256)})


class EnrichState(InnerDoc):
    status = Keyword()  # pending | done | error
    linked = Boolean()  # false from enrichment until a link run has written this ad's cluster
    version = Keyword()
    processed_at = Date()
    errors = Object(EnrichError)


class CrawlInfo(InnerDoc):
    run_id = Keyword()
    fetched_at = Date()
    http_status = Integer()
    listing_key = Keyword()  # what the listing showed (date, price); unchanged key -> detail not refetched
    # Which run first saw, last changed and removed the ad: run counts are queries, so a resumed
    # run counts exactly like an uninterrupted one.
    first_run = Keyword()
    changed_run = Keyword()
    removed_run = Keyword()
    notes = Keyword(ignore_above=256)


class AdDoc(Document):
    """One ad as crawled and enriched; `_id` is `<site>:<ad_id>`."""

    site = Keyword()
    ad_id = Keyword()
    url = Keyword()
    category = Keyword()
    title = Text(fields={"raw": Keyword(ignore_above=256)})
    body = Text()
    contact_text = Text()
    price = Double()
    currency = Keyword()
    city = Keyword()
    region = Keyword()
    country = Keyword()
    # Enrichment's reading of the ad when the page gives no country (enrich/country.py): the guess,
    # how it was made (page | site | city | phone | language) and the text's language (ISO 639-1).
    country_inferred = Keyword()
    country_how = Keyword()
    language = Keyword()
    country_source = Keyword()  # page | site_default (the crawler's); enrichment records its own inference
    location = GeoPoint()
    posted_at = Date()
    first_seen = Date()
    last_seen = Date()
    removed_at = Date()
    status = Keyword()  # active | removed
    content_hash = Keyword()
    edits = Integer()
    images = Object(ImageRef)
    contacts = Object(Contact)
    identifiers = Keyword()  # normalised identifiers, flat, for exact lookup and aggregation
    text_norm = Text()
    template_text = Text(index=False)
    # Read from _source by linking (enrich/facts.py); nothing searches them. Indexed they were 64
    # unique terms per ad that the node indexed, and merged again on every rewrite of the ad: the
    # link write-back took 22% longer (bench/enrich_workers.py e2e, 20k ads, two runs each).
    minhash_bands = Keyword(index=False, doc_values=False)
    enrich = Object(EnrichState)
    cluster_id = Keyword()
    links = Object(Link)
    # No longer written (it held "<other ad>|<score>" strings); kept so older documents stay valid.
    text_links = Keyword(index=False, doc_values=False)
    # This ad's rows of the text score table ([{ad: a later ad, score}], every compared candidate
    # scoring at least enrich.comparison.TEXT_SCORE_FLOOR): incremental runs and threshold
    # changes read it instead of comparing again. Stored whole, not indexed.
    text_pairs = Object(enabled=False)
    crawl = Object(CrawlInfo)

    class Meta:
        dynamic = MetaField("strict")


class SharedIdentifier(InnerDoc):
    kind = Keyword()
    value = Keyword()
    ads = Integer()


class EvidenceCounts(InnerDoc):
    identifier = Integer()
    text = Integer()
    image = Integer()
    suppressed = Integer()


class TemplateSlot(InnerDoc):
    name = Keyword()
    values = Keyword(ignore_above=256)


class ClusterDoc(Document):
    """One controller cluster: what its ads share and why they were linked."""

    cluster_id = Keyword()
    size = Integer()
    ads = Keyword()
    sites = Keyword()
    cities = Keyword()
    # len(cities), stored so a plain range filter (no script, no runtime field) finds multi-city clusters.
    city_count = Integer()
    countries = Keyword()
    first_seen = Date()
    last_seen = Date()
    created_at = Date()
    updated_at = Date()
    identifiers = Object(SharedIdentifier)
    evidence = Object(EvidenceCounts)
    representative_ad = Keyword()
    template = Text()
    slots = Object(TemplateSlot)
    merged_from = Keyword()
    # A digest of the rest of the document but updated_at: a link run compares it with the one it
    # would write, reading three fields of every cluster instead of whole documents.
    digest = Keyword(index=False, doc_values=False)

    class Meta:
        dynamic = MetaField("strict")


class Alert(InnerDoc):
    kind = Keyword()  # failed | zero_items | error_rate | too_long
    message = Text()
    at = Date()


class RunItems(InnerDoc):
    new = Integer()
    changed = Integer()
    unchanged = Integer()
    removed = Integer()
    invalid = Integer()


class RunDoc(Document):
    """One crawl run of one site: the operators' history."""

    run_id = Keyword()
    site = Keyword()
    trigger = Keyword()  # schedule | manual
    started = Date()
    finished = Date()
    duration_s = Float()
    status = Keyword()  # running | finished | failed | interrupted
    pages = Integer()
    bytes = Long()
    items = Object(RunItems)
    # Error counts keyed by type ("http_429", "parse_error", ...): open-ended, always numbers.
    errors = Object(dynamic=True)
    # Scrapy's own stats have keys with '/' and '.'; kept whole in _source, not indexed.
    scrapy_stats = Object(enabled=False)
    alerts = Object(Alert)

    class Meta:
        dynamic = MetaField("strict")


class LeaseDoc(Document):
    """One lease (adwatch/lease.py): which process may run a job that must not run twice at once."""

    name = Keyword()
    holder = Keyword()  # a fresh id per acquisition
    host = Keyword()
    pid = Long()
    purpose = Keyword()
    acquired_at = Date()
    renewed_at = Date()
    expires_at = Date()
    # How to tell on the holder's own machine that the holder died (boot id, pid namespace, start time).
    process = Object(enabled=False)

    class Meta:
        dynamic = MetaField("strict")


# Crawls hold leases of their own kind (one per site), so the crawler role may write them without the
# right to take or break the enrich lease.
DOCUMENTS: dict[str, type[Document]] = {"ads": AdDoc, "clusters": ClusterDoc, "runs": RunDoc, "leases": LeaseDoc,
                                         "crawl-leases": LeaseDoc}


@dataclass(frozen=True)
class IndexNames:
    """Every name the store uses for one deployment prefix."""

    prefix: str = "adwatch"

    def alias(self, kind: str) -> str:
        return f"{self.prefix}-{kind}"

    def versioned(self, kind: str, version: int | None = None) -> str:
        return f"{self.prefix}-{kind}-v{version or VERSIONS[kind]}"

    def ads_partition(self, month: str, version: int | None = None) -> str:
        """Concrete ads index for a month 'YYYY.MM'."""
        return f"{self.versioned('ads', version)}-{month}"


def _strict_objects(properties: dict) -> None:
    # Inner objects are strict too, unless a field says otherwise (open-ended counters, raw stats).
    for field in properties.values():
        if "properties" in field:
            field.setdefault("dynamic", "strict")
            _strict_objects(field["properties"])


def mapping(kind: str) -> dict:
    """The mapping body for one kind of index, as Elasticsearch expects it."""
    body = DOCUMENTS[kind]._doc_type.mapping.to_dict()
    _strict_objects(body["properties"])
    if kind == "runs":
        body["dynamic_templates"] = [{"error_counts": {"path_match": "errors.*", "mapping": {"type": "long"}}}]
    return body


def settings(replicas: str = "0-1") -> dict:
    """Index settings shared by every kind: one shard (ads are partitioned by month instead) and
    `replicas` copies: a count ("1"), or a range Elasticsearch fits to the nodes present ("0-1",
    the default: a replica only when a second node exists to hold it)."""
    copies = {"auto_expand_replicas": replicas} if "-" in replicas else {"number_of_replicas": int(replicas)}
    return {"number_of_shards": 1, **copies, "refresh_interval": REFRESH_INTERVAL}
