"""One page of a list, the same shape for every list service; :class:`PageOut` is how the API publishes it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic import BaseModel

from portal_app.services.errors import ValidationFailed
from portal_app.services.numbers import INT32_MAX

T = TypeVar("T")

MAX_PAGE = INT32_MAX


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: list[T]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


class BarePage(BaseModel, Generic[T]):
    """One page without the count of pages (the help centre's lists publish this shape)."""

    items: list[T]
    total: int
    page: int
    page_size: int

    @classmethod
    def of(cls, page: Page[T]) -> BarePage[T]:
        return cls(items=page.rows, total=page.total, page=page.page, page_size=page.page_size)


class PageOut(BarePage[T], Generic[T]):
    """One page as the API publishes it, for any record (``response_model=PageOut[svc.ThingRow]``): the rows
    under ``items`` with the count of all matches and of pages."""

    pages: int

    @classmethod
    def of(cls, page: Page[T]) -> PageOut[T]:
        return cls(items=page.rows, total=page.total, page=page.page, page_size=page.page_size, pages=page.pages)


def check_paging(page: int, page_size: int, max_page_size: int) -> None:
    if not 1 <= page <= MAX_PAGE:
        raise ValidationFailed(f"Page numbers start at 1 and go up to {MAX_PAGE:,}.")
    if not 1 <= page_size <= max_page_size:
        raise ValidationFailed(f"Page size must be between 1 and {max_page_size}.")
