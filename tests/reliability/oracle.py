# Private to the azure_apim.identity test suite.
"""The secrets oracle: every text a run produced is searched for every secret the suite seeded or Azure issued.

Secrets are registered by kind (client secret, PFX password, PFX base64, named-value secret, connection string,
SharedAccessKey, bearer token). Texts are registered by origin (module stdout/stderr/SDK log, playbook stdout/stderr,
callback JSON, ...). `search()` returns the hits; the suite asserts there are none and reports the figures.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable

# Shorter values would match by accident (and are not credentials anyway).
MIN_SECRET_LENGTH = 8
# A compact JWS (what Entra ID issues as access tokens): any of these in output is a leaked bearer token.
JWT_PATTERN = re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}")


@dataclass
class Hit:
    """One secret found in one text."""

    kind: str
    origin: str
    excerpt: str


@dataclass
class Oracle:
    """Collects secrets and produced texts for the whole session."""

    secrets: dict[str, str] = field(default_factory=dict)  # value -> kind
    texts: list[tuple[str, str]] = field(default_factory=list)  # (origin, text)
    searched_chars: int = 0
    hits: list[Hit] = field(default_factory=list)

    def add_secret(self, kind: str, value: str) -> None:
        """Register a secret value (and the forms it could appear in: its lines, for multi-line values)."""
        if value and len(value) >= MIN_SECRET_LENGTH:
            self.secrets.setdefault(value, kind)

    def add_secrets(self, kind: str, values: Iterable[str]) -> None:
        """Register several values of one kind."""
        for value in values:
            self.add_secret(kind, value)

    def add_text(self, origin: str, text: str) -> list[Hit]:
        """Register produced text and search it at once; returns the hits in it."""
        self.texts.append((origin, text))
        found = self.search_text(origin, text)
        self.searched_chars += len(text)
        self.hits.extend(found)
        return found

    def search_text(self, origin: str, text: str) -> list[Hit]:
        """Hits of every registered secret (and of any JWT) in one text."""
        found = []
        for value, kind in self.secrets.items():
            index = text.find(value)
            if index >= 0:
                found.append(Hit(kind, origin, self._excerpt(text, index, value)))
        for match in JWT_PATTERN.finditer(text):
            found.append(Hit("bearer token (JWT)", origin, self._excerpt(text, match.start(), match.group(0))))
        return found

    def _excerpt(self, text: str, index: int, value: str) -> str:
        """Context around a hit with every known secret masked (the report must not leak them either)."""
        start, end = max(0, index - 60), min(len(text), index + len(value) + 60)
        excerpt = text[start:end]
        for secret in sorted(self.secrets, key=len, reverse=True):
            excerpt = excerpt.replace(secret, "<SECRET>")
        return JWT_PATTERN.sub("<JWT>", excerpt.replace(value, "<SECRET>")).replace("\n", " ")

    def rescan(self) -> list[Hit]:
        """Search every text again with every secret known now (tokens are only known after the runs)."""
        self.hits = [hit for origin, text in self.texts for hit in self.search_text(origin, text)]
        return self.hits

    def kinds(self) -> dict[str, int]:
        """How many values of each kind are searched for."""
        out: dict[str, int] = {}
        for kind in self.secrets.values():
            out[kind] = out.get(kind, 0) + 1
        return out
