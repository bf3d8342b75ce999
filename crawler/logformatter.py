"""Log lines that never carry an ad's content.

Scrapy's default formatter prints whole items when they are scraped, dropped or fail; our items
are ads that may hold personal data of victims. We log the ad's id and URL instead.
"""

from __future__ import annotations

from scrapy.logformatter import LogFormatter


def _label(item) -> str:
    doc_id = getattr(item, "doc_id", None)
    url = getattr(item, "url", None)
    if doc_id or url:
        return f"{doc_id or '?'} ({url or 'no url'})"
    return type(item).__name__


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
