"""One page of a list, the same shape for every list service."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

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


def check_paging(page: int, page_size: int, max_page_size: int) -> None:
    if not 1 <= page <= MAX_PAGE:
        raise ValidationFailed(f"Page numbers start at 1 and go up to {MAX_PAGE:,}.")
    if not 1 <= page_size <= max_page_size:
        raise ValidationFailed(f"Page size must be between 1 and {max_page_size}.")
