"""Errors of sending notifications; part of the tree drawn in `workflow.errors`.

TatulasuError
└── DeliveryError                  a notification could not be delivered
    ├── TemporaryDeliveryError     try again later (connection refused, 4xx SMTP, 5xx HTTP)
    └── PermanentDeliveryError     retrying will not help (5xx SMTP, 4xx HTTP, no address)
"""

from __future__ import annotations

from states.errors import TatulasuError


class DeliveryError(TatulasuError):
    """A notification could not be delivered."""


class TemporaryDeliveryError(DeliveryError):
    """The sink failed for now; the message is retried with backoff."""


class PermanentDeliveryError(DeliveryError):
    """The sink refused the message for good; it is marked failed at once."""
