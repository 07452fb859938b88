"""The search index: BM25F over each published article's title, keywords and body, kept in memory per process.

Scoring (BM25F, Robertson and Zaragoza): a term's frequency in an article is the sum over the fields of
``weight * tf / (1 - b + b * length / average length)``, so a word in the title or the keywords counts three times
as much as in the body; the score is ``sum(idf(t) * q(t) * tf / (K1 + tf))`` over the question's distinct terms, with
``idf(t) = ln(1 + (N - df + 0.5) / (df + 0.5))`` and ``q(t) = (K3 + 1) * n / (K3 + n)`` for a term said ``n`` times
in the question (what a long request text repeats matters more).

Each term adds less than ``idf(t) * q(t)``, so a question's best possible score is the sum of those.
:meth:`Index.search` reports ``score / best possible`` (the **match score**, 0 to 1): how much of what the question
asks an article answers. A term that appears once in an article's body scores about a third of its weight; in the
title or keywords about two thirds. One word that no article has counts at half the highest ``idf`` (a question
about something the help centre does not cover is not answered; the word may also be a place or product name).
For long texts (a request's description) only the ``BOUND_TERMS`` heaviest terms make up the best possible score,
so a long text is not punished for its length (see :meth:`Index.best_possible`).

The index is rebuilt when an article is added or changed: before each search one aggregate query over the
article table (count, highest id, sum of versions, latest ``updated_at``) is compared with the one the index was
built from. Several databases in one process (the tests) each get their own index.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import HelpArticle
from portal_app.services.help_centre import render
from portal_app.services.help_centre.text import analyse

FIELD_WEIGHTS = {"title": 3.0, "keywords": 3.0, "body": 1.0}
FIELD_B = {"title": 0.0, "keywords": 0.3, "body": 0.75}
K1 = 2.0
K3 = 1.5  # a word said twice in a question weighs 1.43 times, three times 1.67 times
BOUND_TERMS = 6
UNKNOWN_SHARE = 0.5  # an unknown word weighs half the rarest term: it may be a place or a product name


@dataclass(frozen=True)
class IndexedArticle:
    id: int
    slug: str
    title: str
    audience: str
    text: str  # the body as plain text, for snippets
    fields: dict[str, Counter]
    lengths: dict[str, int]


@dataclass(frozen=True)
class Match:
    article: IndexedArticle
    score: float  # 0..1: the share of the question's weight this article answers
    raw: float


@dataclass
class Index:
    articles: list[IndexedArticle]
    idf: dict[str, float] = field(default_factory=dict)
    average: dict[str, float] = field(default_factory=dict)
    unknown_idf: float = 0.0

    def __post_init__(self) -> None:
        n = len(self.articles)
        df: Counter = Counter()
        for a in self.articles:
            df.update({t for counts in a.fields.values() for t in counts})
        self.idf = {t: _idf(n, d) for t, d in df.items()}
        self.unknown_idf = _idf(n, 0)
        for name in FIELD_WEIGHTS:
            total = sum(a.lengths[name] for a in self.articles)
            self.average[name] = (total / n) if n and total else 1.0

    def _term_frequency(self, a: IndexedArticle, term: str) -> float:
        tf = 0.0
        for name, weight in FIELD_WEIGHTS.items():
            count = a.fields[name].get(term, 0)
            if count:
                b = FIELD_B[name]
                tf += weight * count / (1 - b + b * a.lengths[name] / self.average[name])
        return tf

    def best_possible(self, weights: dict[str, float]) -> float:
        """The score of an article that answered every term of the question as well as possible: the
        ``BOUND_TERMS`` heaviest known terms, plus one unknown word (no article has it) at ``UNKNOWN_SHARE`` of the
        highest ``idf``. Unknown words with digits (a reference like SH0000123, a size like 40ft) and further
        unknown words (place names, a product) are not held against the articles."""
        known = sorted((self.idf[t] * w for t, w in weights.items() if t in self.idf), reverse=True)[:BOUND_TERMS]
        unknown = any(t not in self.idf and not any(c.isdigit() for c in t) for t in weights)
        return sum(known) + (UNKNOWN_SHARE * self.unknown_idf if unknown else 0.0)

    def search(self, terms: Iterable[str], audiences: frozenset[str], limit: int) -> list[Match]:
        """The best ``limit`` articles of the given audiences for the question's ``terms``, best first."""
        weights = {t: (K3 + 1) * n / (K3 + n) for t, n in Counter(terms).items()}
        if not weights:
            return []
        bound = self.best_possible(weights)
        matches = []
        for a in self.articles:
            if a.audience not in audiences:
                continue
            raw = 0.0
            for t, w in weights.items():
                tf = self._term_frequency(a, t)
                if tf:
                    raw += self.idf[t] * w * tf / (K1 + tf)
            if raw > 0:
                matches.append(Match(a, min(1.0, raw / bound), raw))
        matches.sort(key=lambda m: (-m.raw, m.article.title))
        return matches[:limit]


def _idf(n: int, df: int) -> float:
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


def index_article(row: HelpArticle) -> IndexedArticle:
    text = render.to_text(row.title, row.body_markdown)
    # Keywords are a set: "cancel booking, withdraw booking" says "booking" once.
    assert row.id is not None  # a stored row
    fields = {
        "title": Counter(analyse(row.title)),
        "keywords": Counter(set(analyse(row.keywords or ""))),
        "body": Counter(analyse(text)),
    }
    return IndexedArticle(
        row.id, row.slug, row.title, row.audience, text, fields, {k: sum(v.values()) for k, v in fields.items()}
    )


# ------------------------------------------------------------------------------------------- the per-process cache

_lock = threading.Lock()
_cache: dict[str, tuple[tuple, Index]] = {}


def _stamp(db: Session) -> tuple:
    count, top_id, versions, latest = db.exec(
        select(
            sa.func.count(col(HelpArticle.id)),
            sa.func.max(HelpArticle.id),
            sa.func.sum(HelpArticle.version),
            sa.func.max(HelpArticle.updated_at),
        )
    ).one()
    changed = latest.isoformat() if isinstance(latest, datetime) else latest
    return int(count or 0), int(top_id or 0), int(versions or 0), str(changed)


def current(db: Session) -> Index:
    """The index of the published articles, rebuilt only when an article changed since it was built."""
    key = db.get_bind().engine.url.render_as_string(hide_password=True)
    stamp = _stamp(db)
    cached = _cache.get(key)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    with _lock:
        cached = _cache.get(key)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        rows = db.exec(select(HelpArticle).where(col(HelpArticle.is_published).is_(True))
                       .order_by(col(HelpArticle.id))).all()
        index = Index([index_article(r) for r in rows])
        _cache[key] = (stamp, index)
        return index


def forget() -> None:
    """Drop every cached index (tests)."""
    with _lock:
        _cache.clear()
