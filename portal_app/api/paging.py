"""One page of a list as the API serves it: the rows (a service's read model) and where the page lies."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel

from portal_app.services.paging import Page

T = TypeVar("T")


class ItemsPage(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    page_size: int
    pages: int

    @classmethod
    def of(cls, result: Page[T]) -> ItemsPage[T]:
        return cls(items=result.rows, total=result.total, page=result.page, page_size=result.page_size,
                   pages=result.pages)
