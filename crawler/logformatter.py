"""Log lines that never carry an ad's content.

Scrapy's default formatter prints whole items when they are scraped, dropped or fail; our items
are ads that may hold personal data of victims. We log the ad's site and a digest of its id
instead (adwatch.logs.ad_label); URLs in every line are redacted by adwatch.logs.install_redaction.
"""

from __future__ import annotations

from scrapy.logformatter import LogFormatter

from adwatch.logs import ad_label


def _label(item) -> str:
    doc_id = getattr(item, "doc_id", None) or getattr(getattr(item, "known", None), "doc_id", None)
    return ad_label(doc_id) if doc_id else type(item).__name__


class PrivateLogFormatter(LogFormatter):
    def scraped(self, item, response, spider):
        entry = super().scraped(item, response, spider)
        entry["args"]["item"] = _label(item)
        return entry

    def dropped(self, item, exception, response, spider):
        entry = super().dropped(item, exception, response, spider)
        entry["args"]["item"] = _label(item)
        return entry

    def item_error(self, item, exception, response, spider):
        entry = super().item_error(item, exception, response, spider)
        entry["args"]["item"] = _label(item)
        return entry
