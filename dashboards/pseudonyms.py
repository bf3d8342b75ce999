"""Keyed pseudonyms for researcher exports: HMAC-SHA256 with the deployment's secret.

The same secret and value always give the same pseudonym, so exports made with one secret can be
joined; without the secret a pseudonym cannot be turned back into a phone number by trying every
number (a plain hash could). Another secret gives unrelated pseudonyms. The `domain` keeps kinds
apart: a cluster id and a phone number with the same text never share a pseudonym.
"""

from __future__ import annotations

import hashlib
import hmac

from adwatch.config import Settings
from adwatch.errors import UserError

MIN_SECRET_CHARS = 16
_HOW = ("Set it in the environment (export ADWATCH_PSEUDONYM_SECRET=...) or as `pseudonym_secret: ...` in the "
        "config file (ADWATCH_CONFIG or ./adwatch.yaml); make one with "
        "`python3 -c \"import secrets; print(secrets.token_hex(32))\"` and keep it: the same secret gives the same "
        "pseudonyms across exports.")


class PseudonymSecretMissing(UserError):
    """Exports that pseudonymise need a secret; the message says how to set one."""


class Pseudonymiser:
    """value -> '<domain>:<32 hex chars>' (128 bits of HMAC-SHA256 keyed with the secret)."""

    def __init__(self, secret: str) -> None:
        if len(secret) < MIN_SECRET_CHARS:
            raise PseudonymSecretMissing(
                f"The pseudonym secret (ADWATCH_PSEUDONYM_SECRET / config key pseudonym_secret) is only "
                f"{len(secret)} characters; use at least {MIN_SECRET_CHARS} so pseudonyms cannot be guessed. {_HOW}")
        self._key = secret.encode("utf-8")

    def __call__(self, value: str, domain: str) -> str:
        digest = hmac.new(self._key, f"{domain}\x1f{value}".encode("utf-8"), hashlib.sha256).hexdigest()
        return f"{domain}:{digest[:32]}"

    @property
    def key_id(self) -> str:
        """A short fingerprint of the secret: equal key ids mean two exports' pseudonyms can be joined."""
        return hmac.new(self._key, b"adwatch-pseudonym-key-id", hashlib.sha256).hexdigest()[:12]


def from_settings(settings: Settings) -> Pseudonymiser:
    """The deployment's pseudonymiser; a missing secret is a UserError naming where to set it."""
    if not settings.pseudonym_secret:
        raise PseudonymSecretMissing(
            "No pseudonym secret is configured, so identifiers cannot be pseudonymised and nothing was exported. "
            + _HOW)
    return Pseudonymiser(settings.pseudonym_secret)
