"""The API's lists take the same ``sort`` as the pages' column headers (services/sorting.py): each key orders the
rows in the query, ``-key`` reverses it, and a key the list does not offer is a 422 naming the ones it does."""

from __future__ import annotations

import pytest

from tests.quote_world import QuoteWorld

# (who, list, a key, the item's field it orders by, filters)
LISTS = [
    ("alice@acme.example", "/api/v1/documents", "file", "filename", {"status": "all"}),
    ("alice@acme.example", "/api/v1/invoices", "due", "due_date", {}),
    ("alice@acme.example", "/api/v1/requests", "reference", "reference", {"status": "all"}),
    ("agent@harborsky.example", "/api/v1/exceptions", "id", "id", {"status": "all"}),
    ("agent@harborsky.example", "/api/v1/tasks", "id", "id", {"status": "all"}),
]


@pytest.mark.parametrize("email,path,key,field,filters", LISTS, ids=[entry[1] for entry in LISTS])
def test_a_list_sorts_by_a_key_and_refuses_one_it_does_not_offer(demo: QuoteWorld, email, path, key, field,
                                                                  filters):
    client = demo.client(email)
    rising = client.get(path, params={**filters, "sort": key, "page_size": 50})
    assert rising.status_code == 200, rising.text
    values = [item[field] for item in rising.json()["items"]]
    assert len(values) > 1 and values == sorted(values)
    falling = [item[field] for item in client.get(path, params={**filters, "sort": f"-{key}", "page_size": 50})
               .json()["items"]]
    assert falling == sorted(falling, reverse=True) and falling[0] >= values[-1]

    refused = client.get(path, params={**filters, "sort": "password_hash"})
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert f"-{key}" in error["message"] and error["saved"] is False
