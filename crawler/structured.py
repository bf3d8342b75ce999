"""Structured data a page declares (JSON-LD, microdata, RDFa, OpenGraph), read with extruct.

`read_structured` turns a page into `Structured`: the page's main item (the first schema.org
item of an ad-like type: Product, Offer, JobPosting, Place, Residence, Vehicle, Event, Service...)
and the OpenGraph properties. `Structured.values(path)` answers a definition's `data:` paths
("offers.price", "JobPosting.baseSalary.currency", "og:image"); `AUTO_PATHS` are the paths an
`auto` definition reads for each ad field when no selector of its own gives a value.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

SYNTAXES = ("json-ld", "microdata", "rdfa", "opengraph")

# schema.org types whose item on a page is the ad itself (not the site, a breadcrumb or a list).
AD_TYPES = frozenset({
    "Product", "IndividualProduct", "ProductModel", "SomeProducts", "Vehicle", "Car", "Motorcycle", "Offer",
    "AggregateOffer", "Demand", "JobPosting", "Place", "Accommodation", "Apartment", "House", "Room",
    "SingleFamilyResidence", "Residence", "RealEstateListing", "LodgingBusiness", "LocalBusiness", "Event",
    "Service", "Article", "SocialMediaPosting", "ClassifiedAd",
})
# Containers whose main entity, when they name one, is the ad.
_WRAPPERS = frozenset({"WebPage", "ItemPage", "CollectionPage"})

_PLACES = ("address", "location.address", "jobLocation.address", "offers.availableAtOrFrom.address",
           "itemOffered.address", "contentLocation.address")
# Paths tried in order for each ad field in `auto` mode; the first that holds a value wins.
AUTO_PATHS: dict[str, tuple[str, ...]] = {
    "ad_id": ("identifier", "productID", "sku", "offers.sku"),
    "title": ("name", "title", "headline", "og:title"),
    # og:description is left out on purpose: sites cut it to ~160 characters for link previews.
    "body": ("description", "articleBody", "text"),
    "price": ("offers.price", "offers.lowPrice", "offers.priceSpecification.price", "price",
              "baseSalary.value.value", "baseSalary.value.minValue", "baseSalary.value", "product:price:amount",
              "og:price:amount"),
    "currency": ("offers.priceCurrency", "offers.priceSpecification.priceCurrency", "priceCurrency",
                 "baseSalary.currency", "salaryCurrency", "product:price:currency", "og:price:currency"),
    "posted_at": ("datePosted", "datePublished", "dateCreated", "offers.validFrom", "uploadDate",
                  "article:published_time"),
    "images": ("image", "photo", "offers.itemOffered.image", "og:image"),
    "category": ("category", "occupationalCategory", "offers.category"),
    "city": tuple(f"{p}.addressLocality" for p in _PLACES),
    "region": tuple(f"{p}.addressRegion" for p in _PLACES),
    "country": tuple(f"{p}.addressCountry" for p in _PLACES),
    # A place written as one line ("Phoenix, Arizona, United States") when the item has no address parts.
    "location": ("address", "location", "jobLocation", "areaServed", "og:locality"),
    "contact": ("telephone", "offers.seller.telephone", "seller.telephone", "author.telephone",
                "hiringOrganization.telephone", "email", "offers.seller.email"),
}


@dataclass
class Structured:
    """What one page declares: its items (schema.org, in page order), the main one, OpenGraph."""

    items: list[dict] = field(default_factory=list)
    main: dict | None = None
    og: dict[str, list[str]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return self.main is None and not self.og

    def values(self, path: str) -> list:
        """Every value at `path`: 'offers.price' on the main item, 'Type.a.b' on the first item of
        that type, 'og:image' / 'product:price:amount' in OpenGraph. Lists are flattened."""
        if ":" in path.split(".")[0]:
            return list(self.og.get(path, []))
        head, _, rest = path.partition(".")
        item = self.main
        if head[:1].isupper():
            item = next((i for i in self.items if head in _types(i)), None)
            path = rest
        if item is None or not path:
            return [item] if item is not None and not path else []
        found = [item]
        for key in path.split("."):
            step = []
            for value in found:
                for node in (value if isinstance(value, list) else [value]):
                    if isinstance(node, dict) and key in node:
                        inner = node[key]
                        step.extend(inner if isinstance(inner, list) else [inner])
            found = step
        return [v for v in found if v not in (None, "", [], {})]


def text_of(value) -> str | None:
    """A structured value as text: strings and numbers as they are; an object by its url, name,
    value or (an address) its parts joined as one line."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, list):
        return text_of(value[0]) if value else None
    if isinstance(value, dict):
        if "PostalAddress" in _types(value) or "addressLocality" in value:
            parts = [text_of(value.get(k)) for k in ("streetAddress", "addressLocality", "addressRegion",
                                                      "addressCountry")]
            return ", ".join(p for p in parts if p) or None
        for key in ("url", "contentUrl", "name", "value", "@value", "@id"):
            if key in value:
                return text_of(value[key])
    return None


def _types(item: dict) -> set[str]:
    kind = item.get("@type") or []
    kinds = kind if isinstance(kind, list) else [kind]
    return {str(k).rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1] for k in kinds}


# One pass over the document for every syntax's markers (four separate searches cost more than
# the rest of a plain page's extraction).
_MARKERS = ("//script[@type='application/ld+json'] | //*[@itemscope] | //*[@typeof]"
            " | //meta[starts-with(@property, 'og:') or starts-with(@property, 'product:')"
            " or starts-with(@property, 'article:')]")


def page_declares(root) -> set[str]:
    """The syntaxes an lxml document has markup for (so extruct runs only where it finds something)."""
    found = set()
    for node in root.xpath(_MARKERS):
        if node.tag == "script":
            found.add("json-ld")
        elif node.tag == "meta" and node.get("property"):
            found.add("opengraph")
        if node.get("itemscope") is not None:
            found.add("microdata")
        if node.get("typeof") is not None:
            found.add("rdfa")
    return found


def read_structured(root, base_url: str, syntaxes: tuple[str, ...] = SYNTAXES, html: str | None = None) -> Structured:
    """Read the structured data of a parsed page (an lxml element; `html` is needed for RDFa only).

    A syntax the page garbles (broken JSON in a ld+json script) is skipped: the page's selectors
    and its other syntaxes still count. Logged with the URL only.
    """
    import extruct

    wanted = [s for s in syntaxes if s in page_declares(root)]
    if not wanted:
        return Structured()
    tree_syntaxes = [s for s in wanted if s != "rdfa"]
    data: dict[str, list] = {}
    if tree_syntaxes:
        try:
            data = extruct.extract(root, base_url=base_url, syntaxes=tree_syntaxes, uniform=True,
                                   with_og_array=True, errors="strict")
        except Exception as exc:  # extruct passes on whatever its parsers raise (JSON, lxml, rdflib)
            log.info("structured data of %s not readable (%s); trying each syntax alone", base_url,
                     type(exc).__name__)
            for syntax in tree_syntaxes:
                try:
                    data.update(extruct.extract(root, base_url=base_url, syntaxes=[syntax], uniform=True,
                                                with_og_array=True, errors="strict"))
                except Exception:  # noqa: BLE001 - one garbled syntax must not hide the others
                    continue
    items: list[dict] = []
    for syntax in ("json-ld", "microdata"):
        for item in data.get(syntax, []):
            items.extend(_graph(item))
    if "rdfa" in wanted and html is not None:
        try:
            items.extend(_rdfa_items(extruct.extract(html, base_url=base_url, syntaxes=["rdfa"])["rdfa"]))
        except Exception as exc:  # noqa: BLE001 - as above
            log.info("RDFa of %s not readable (%s)", base_url, type(exc).__name__)
    og: dict[str, list[str]] = {}
    for group in data.get("opengraph", []):
        for key, value in group.items():
            if key.startswith("@"):
                continue
            for v in value if isinstance(value, list) else [value]:
                if isinstance(v, str) and v.strip():
                    og.setdefault(key, []).append(v.strip())
    return Structured(items, _main_item(items), og)


def _graph(item: dict) -> list[dict]:
    """A JSON-LD block may hold a @graph of items, or a list; microdata items come one by one."""
    if isinstance(item, list):
        return [i for x in item for i in _graph(x)]
    if not isinstance(item, dict):
        return []
    if "@graph" in item and isinstance(item["@graph"], list):
        return [i for x in item["@graph"] for i in _graph(x)]
    return [item]


def _main_item(items: list[dict]) -> dict | None:
    for item in items:
        if _types(item) & AD_TYPES:
            return item
    for item in items:
        if _types(item) & _WRAPPERS and isinstance(item.get("mainEntity"), dict):
            return item["mainEntity"]
    return None


def _rdfa_items(expanded: list[dict]) -> list[dict]:
    """extruct's RDFa output is expanded JSON-LD (full IRIs, @value lists, blank-node references):
    made into the compact shape JSON-LD and microdata have, typed nodes first as in the page."""
    nodes = {n.get("@id"): n for n in expanded if isinstance(n, dict)}

    def local(iri: str) -> str:
        return iri.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]

    def compact(node: dict, depth: int = 0) -> dict:
        out: dict = {"@type": [local(t) for t in node.get("@type", [])]}
        for key, values in node.items():
            if key.startswith("@"):
                continue
            converted = []
            for value in values if isinstance(values, list) else [values]:
                if isinstance(value, dict) and "@value" in value:
                    converted.append(value["@value"])
                elif isinstance(value, dict) and "@id" in value:
                    target = nodes.get(value["@id"])
                    converted.append(compact(target, depth + 1) if target and depth < 4 else value["@id"])
            out[local(key)] = converted[0] if len(converted) == 1 else converted
        return out

    referenced = {v.get("@id") for n in nodes.values() for vs in n.values() if isinstance(vs, list)
                  for v in vs if isinstance(v, dict) and "@id" in v}
    return [compact(n) for n in nodes.values() if n.get("@type") and n.get("@id") not in referenced]

