"""The notes and messages passerelle writes on shop orders (tracking links, document links).

Every such text is planned with a last line ``ref: <key>``: how a later run finds it again instead
of writing it twice, on any shop (Vendure order notes, PrestaShop customer messages, WooCommerce
customer notes). A shop that has a private place writes the text without that line where the
customer reads it, and the line apart where only the merchant does (:func:`split_key`): the
customer never sees an internal key.
"""

from __future__ import annotations

from connectors.errors import RecordError, Refused

__all__ = [
    "CUSTOMER_TEXTS",
    "LANGUAGES",
    "NOTE_KEY",
    "customer_text",
    "link_key",
    "link_text",
    "note_key",
    "split_key",
    "with_key",
]

CUSTOMER_TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "tracking": "Track your parcel",
        "shipped": "Your order has shipped",
        "cancelled": "Cancelled by the merchant",
        "invoice": "Invoice {number}",
        "credit_note": "Credit note {number}",
    },
    "fr": {
        "tracking": "Suivre votre colis",
        "shipped": "Votre commande a été expédiée",
        "cancelled": "Annulée par le marchand",
        "invoice": "Facture {number}",
        "credit_note": "Avoir {number}",
    },
}
"""What passerelle writes where customers read it, per language (the connection's ``language``)."""
LANGUAGES = tuple(CUSTOMER_TEXTS)


def customer_text(name: str, language: str) -> str:
    """The text ``name`` in ``language``.

    Raises:
        ValueError: a language passerelle has no texts for.
    """
    texts = CUSTOMER_TEXTS.get(language)
    if texts is None:
        raise ValueError(f"no customer texts in language {language!r}: use one of {', '.join(LANGUAGES)}")
    return texts[name]


NOTE_KEY = "ref: "
"""A note passerelle writes ends with a line ``ref: <key>``."""


def with_key(text: str, key: str) -> str:
    """``text`` followed by the line that finds it again."""
    return f"{text}\n{NOTE_KEY}{key}"


def link_text(title: str, url: str, key: str) -> str:
    """A document link as the customer reads it: ``title: url``, then the key line."""
    return with_key(f"{title}: {url}", key)


def split_key(text: str) -> tuple[str, str | None]:
    """``(what the customer reads, the key line)`` of a planned text; no key line: ``(text, None)``."""
    body, _, last = text.rstrip().rpartition("\n")
    if body and last.strip().startswith(NOTE_KEY) and note_key(text) is not None:
        return body, last.strip()
    return text, None


def note_key(text: str) -> str | None:
    """The key a passerelle note ends with, else None (a note written by someone else)."""
    last = text.rstrip().rsplit("\n", 1)[-1].strip()
    return last[len(NOTE_KEY) :].strip() or None if last.startswith(NOTE_KEY) else None


def link_key(shop_order_id: str, title: str, url: str, key: str) -> str:
    """The key of a document link to write, stripped.

    Raises:
        Refused: an empty key, or a key / title / URL on more than one line (the note could not
            be found again, or would show broken).
    """
    if not key.strip() or any("\n" in part for part in (key, title, url)):
        raise Refused(RecordError(shop_order_id, "key", "key, title and URL must be single non-empty lines"))
    return key.strip()
