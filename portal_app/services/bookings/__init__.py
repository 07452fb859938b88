"""From an accepted quote option to a booking, exactly once; ops confirming or rejecting it; the customer asking
to amend or cancel it, and ops deciding.

Exactly once: accepting first moves the option from ``offered`` to ``accepted`` with one conditional UPDATE
(``WHERE status = 'offered' AND valid_until >= now``). Only one transaction can make that change; every other
attempt (double click, retry, second tab, an API call repeated with the same ``Idempotency-Key``) finds the
option accepted and gets the booking the first one made. ``Shipment.quote_option_id`` is unique as well, and the
key is stored in ``IdempotencyKey`` (unique per user, operation and key) in the same transaction as the booking.
"""

from portal_app.services.bookings.accepting import (
    accept_option,
)
from portal_app.services.bookings.changes import (
    decide_change,
    list_change_requests,
    request_cancellation,
    request_change,
)
from portal_app.services.bookings.common import (
    shipment_reference,
)
from portal_app.services.bookings.decisions import (
    confirm_booking,
    pending_bookings,
    reject_booking,
)
from portal_app.services.bookings.prefill import (
    booking_details,
    last_booking,
)
from portal_app.services.bookings.shapes import (
    ACCEPT_OPERATION,
    AMENDABLE_FIELDS,
    CHANGEABLE_STATUSES,
    MAX_KEY_LENGTH,
    MAX_PAGE_SIZE,
    NOTHING_BOOKED,
    REASON_MIN,
    BookingDetails,
    BookingInput,
    BookingResult,
    BookingRow,
    ChangeRequestView,
)

__all__ = [
    "ACCEPT_OPERATION",
    "AMENDABLE_FIELDS",
    "CHANGEABLE_STATUSES",
    "MAX_KEY_LENGTH",
    "MAX_PAGE_SIZE",
    "NOTHING_BOOKED",
    "REASON_MIN",
    "BookingDetails",
    "BookingInput",
    "BookingResult",
    "BookingRow",
    "ChangeRequestView",
    "accept_option",
    "booking_details",
    "confirm_booking",
    "decide_change",
    "last_booking",
    "list_change_requests",
    "pending_bookings",
    "reject_booking",
    "request_cancellation",
    "request_change",
    "shipment_reference",
]
