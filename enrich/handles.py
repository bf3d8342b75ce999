"""Messaging handles in folded ad text: "Telegram: @jane_doe", "t.me/jane_doe", "WhatsApp +1 555 ...", "@jane".

A handle must look like a handle. After a platform word, a name written without "@" is a handle
only when it is no ordinary word (number words of any supported language above all: "WhatsApp
seis cinco cero ..." is a phone, not the account "seis"; then any word `wordfreq` finds common in
one of those languages: "WhatsApp disponible", "Telegram only"). A platform followed by a phone
(digits or number words) names the account by that phone: 'whatsapp:+34612345678'; a placeholder
phone gives a handle marked placeholder like the phone, so it is never evidence.
"""

from __future__ import annotations

import re

from enrich.contact import Contact
from enrich.digit_runs import is_number_token
from enrich.normalise import FoldedText
from enrich.number_words import LANGUAGES
from enrich.word_frequency import is_common

# Platform words as ads write them (folded), with the colloquial names of Spanish ("wasap", "wsp",
# "guasap") and Brazilian ("zap", "zapzap", "wpp") ads for WhatsApp.
_PLATFORM_WORDS = {
    "telegram": r"telegram|telegramm|telegrama|telegr|tlgrm|tg",
    "whatsapp": r"whats\s?app|whatsap|watsapp|watsap|wasap|guasap|wapp|wsp|wpp|whats|zapzap|zap|wa",
    "signal": r"signal",
    "instagram": r"instagram|insta|ig",
    "snapchat": r"snapchat|snap|sc",
    "kik": r"kik",
    "wechat": r"wechat|weixin",
    "twitter": r"twitter",
    "onlyfans": r"onlyfans",
}
_PLATFORM_LINKS = {
    "telegram": r"(?:t|telegram)\.me/",
    "whatsapp": r"wa\.me/|api\.whatsapp\.com/send\?phone=",
    "signal": r"signal\.me/#p/",
    "instagram": r"instagram\.com/",
    "snapchat": r"snapchat\.com/add/",
    "kik": r"kik\.me/",
    "twitter": r"(?:twitter|x)\.com/",
    "onlyfans": r"onlyfans\.com/",
}
_NAME = r"[a-z0-9_](?:[a-z0-9_.\-]{1,30}[a-z0-9_])"
# Words that follow a platform word in ads and are too short or too ad-specific for a frequency list.
_NOT_NAMES = frozenset(
    "me only is or and the for to at on now please pls too also here available same id name "
    "username user handle account only24 call text msg message dm add contact me: via with "
    "just first".split()
)
_COMMON_MIN_ZIPF = 3.5
"""A name at least this frequent (wordfreq Zipf: 3.5 = three times in a million words) in a supported
language is an ordinary word, not an account name, unless written with "@"."""
_UNIT_LIKE = re.compile(r"\d+[a-z]{1,4}")  # "24h", "24hrs", "100k": a quantity, not a name
_FIRST_LETTERS = "".join(sorted({w[0] for words in _PLATFORM_WORDS.values() for w in words.split("|")}))
_KEYWORD_HANDLE = re.compile(
    rf"\b(?=[{_FIRST_LETTERS}])(?P<platform>{'|'.join(f'(?P<{p}>{w})' for p, w in _PLATFORM_WORDS.items())})\b"
    rf"(?:\s*(?:id|user(?:name)?|handle|name|nombre|nome|nom)\b)?\s*"
    rf"(?:[:=\-–>]+|\b(?:is|es|est|ist|e|este|me)\b)?\s*(?P<at>@)?\s*(?P<name>{_NAME})(?![\w])"
)
_LINK_HANDLE = re.compile(
    rf"(?:\bhttps?://)?(?:www\.)?(?:{'|'.join(f'(?P<{p}>{w})' for p, w in _PLATFORM_LINKS.items())})"
    rf"(?P<name>\+?{_NAME})"
)
_LINK_HINT = re.compile(r"\.(?:me|com)/")  # every platform link has one; the link pattern is slow to scan
_BARE_HANDLE = re.compile(rf"(?<![\w.@])@(?P<name>{_NAME})(?![\w@])")
_PHONE_PLATFORMS = {"whatsapp", "signal", "telegram"}
_PHONE_KEYWORD = re.compile(
    rf"\b(?=[{''.join(sorted({w[0] for p in _PHONE_PLATFORMS for w in _PLATFORM_WORDS[p].split('|')}))}])(?:{'|'.join(f'(?P<{p}>{_PLATFORM_WORDS[p]})' for p in sorted(_PHONE_PLATFORMS))})\b"
)
_PHONE_AFTER_KEYWORD = 16  # characters between a platform word and the phone it names ("WhatsApp me at ")


def looks_like_handle(name: str, with_at: bool) -> bool:
    """Whether a name written after a platform word can be an account name.

    With "@" any name but a number is one. Without, it must be at least four characters, not a
    number (digits, number words of any supported language: "seis", "six02"), not a quantity
    ("24hrs"), and, when it is letters only, no common word in a supported language.
    """
    if name.isdigit() or is_number_token(name):
        return False
    if with_at:
        return True
    if len(name) < 4 or name in _NOT_NAMES or _UNIT_LIKE.fullmatch(name):
        return False
    return not (name.isalpha() and is_common(name, LANGUAGES, _COMMON_MIN_ZIPF))


def _platform(match: re.Match[str]) -> str:
    return next(p for p in _PLATFORM_WORDS | _PLATFORM_LINKS if match.groupdict().get(p))


def find_handles(text: str, folded: FoldedText, phones: list[Contact], taken: list[tuple[int, int]]) -> list[Contact]:
    """Handle contacts in `text` (spans into it), given its folded form and the phones found in it.

    Normalised 'platform:name' ('telegram:jane_doe'); a platform followed by a phone gives
    'platform:+E164' ('whatsapp:+15551234567'), placeholder when the phone is; a bare '@name'
    with no platform is 'at:name'. `taken` spans (emails, ...) and each other handle are not overlapped.
    """
    ftext = folded.text
    found: list[Contact] = []

    def add(platform: str, name: str, fstart: int, fend: int) -> None:
        span = folded.source_span(fstart, fend)
        if any(a < span[1] and span[0] < b for a, b in taken):
            return
        taken.append(span)
        found.append(Contact("handle", text[span[0] : span[1]], f"{platform}:{name}", span))

    # Phone-based handles first: "WhatsApp: +1 555 ..." names the phone the platform uses.
    for keyword in _PHONE_KEYWORD.finditer(ftext):
        kspan = folded.source_span(*keyword.span())
        following = [p for p in phones if 0 <= p.span[0] - kspan[1] <= _PHONE_AFTER_KEYWORD]
        if following:
            phone = following[0]
            span = (kspan[0], phone.span[1])
            taken.append(span)
            found.append(
                Contact("handle", text[span[0] : span[1]], f"{_platform(keyword)}:{phone.normalised}", span, phone.placeholder)
            )
    for match in _LINK_HANDLE.finditer(ftext) if _LINK_HINT.search(ftext) else ():
        platform = _platform(match)
        name = match.group("name")
        if name.lstrip("+").isdigit() and platform in _PHONE_PLATFORMS:
            name = "+" + name.lstrip("+")
        add(platform, name, *match.span())
    for match in _KEYWORD_HANDLE.finditer(ftext):
        if looks_like_handle(match.group("name"), bool(match.group("at"))):
            add(_platform(match), match.group("name"), *match.span())
    for match in _BARE_HANDLE.finditer(ftext):
        span = folded.source_span(*match.span())
        if not any(a < span[1] and span[0] < b for a, b in taken):
            found.append(Contact("handle", text[span[0] : span[1]], f"at:{match.group('name')}", span))
    return found
