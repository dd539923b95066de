"""The errors newsmon raises on purpose, as one tree (as httpx does under `HTTPError`).

Callers catch what they can handle and nothing else: the CLI turns any :class:`NewsmonError` into one line and
a non-zero exit; flows record a :class:`PageError` per page and go on; a programming error (a `TypeError`, a
`zip(strict=True)` mismatch) is none of these and fails loudly.

    NewsmonError
    ├── InputError (also a ValueError)   bad input from a person or a file: a URL, OPML, a rule, a query
    ├── StorageError                     the database: locked by another process, from a newer newsmon
    ├── RunInProgress                    another pass holds the database; this one does nothing
    ├── ModelUnavailable                 an NLP model that is not installed
    ├── PageError                        a feed or page that cannot be read (recorded, the pass goes on)
    └── DeliveryError                    an alert channel that failed (retried per its outbox row)
"""

from __future__ import annotations


class NewsmonError(Exception):
    """Base of every error newsmon raises on purpose; its message is one line meant for a person."""


class InputError(NewsmonError, ValueError):
    """Bad input from a person or a file; the message says what is wrong and, where it can, what to do."""


class StorageError(NewsmonError):
    """The database cannot be used as asked."""


class RunInProgress(NewsmonError):
    """Another pass holds the database."""


class ModelUnavailable(NewsmonError):
    """An NLP model named by the settings is not installed."""


class PageError(NewsmonError):
    """A feed or page that cannot be read; recorded against it while the rest of the pass goes on."""
