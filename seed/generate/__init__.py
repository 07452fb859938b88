"""Shipments and everything that hangs off them, as plain dict rows with pre-assigned ids.

One ``ShipmentGenerator`` draws every value from one ``random.Random`` in a fixed order, so the same seed,
anchor date and shipment count always give the same rows, whatever the chunk size.

Time model: ``now`` is midnight UTC at the start of the anchor date. A milestone has an actual time only when
it happened before ``now``; the shipment status, ETD/ETA fields, delay, documents, invoices, requests and
exceptions are all derived from the same milestone timeline.

The parts: ``generator`` (the class, its tables and counters), ``steps`` (one shipment, step by step),
``planning`` (its route, timeline, load, numbers and parties), ``rows`` (its own rows), ``money``, ``documents``,
``narrative``, ``quotes``, ``requests``, ``exceptions``; ``common`` holds what they share.
"""

from seed.generate.common import Charge, Ship, _midnight
from seed.generate.generator import ShipmentGenerator

__all__ = ["Charge", "Ship", "ShipmentGenerator", "_midnight"]
