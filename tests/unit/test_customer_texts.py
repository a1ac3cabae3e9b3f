"""What customers read (tracking notes, cancellation reasons, invoice link titles) is in the
connection's language, French or English, with nothing internal in it."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from connectors.base import StatusWrite
from connectors.models import OrderStatus, Shipment
from connectors.shop.notes import customer_text
from connectors.shop.vendure.feedback import plan_write
from tasks.feedback import plan_statuses
from tasks.settings import ConnectionSettings, FeedbackSettings, invoice_title
from tests.unit.test_vendure_feedback_mapper import row


def test_every_text_exists_in_french_and_english_and_unknown_languages_are_refused() -> None:
    assert customer_text("tracking", "fr") == "Suivre votre colis"
    assert customer_text("tracking", "en") == "Track your parcel"
    assert customer_text("invoice", "fr").format(number="FA1") == "Facture FA1"
    with pytest.raises(ValueError, match="language 'de'"):
        customer_text("tracking", "de")
    with pytest.raises(ValueError, match="use one of en, fr"):
        ConnectionSettings.model_validate({"erp": {"type": "files"}, "shop": {"type": "vendure"}, "language": "de"})


def test_the_connections_language_reaches_the_status_writes_and_the_shops_note() -> None:
    parcel = Shipment("BL1", "Colissimo", "6A1", "https://t/6A1")
    status = OrderStatus("7", "SO7", "shipped", datetime(2026, 12, 1, tzinfo=timezone.utc), shipments=[parcel])
    (write,) = plan_statuses([status], {}, {}, {"7": "processing"}, FeedbackSettings(), language="fr").writes
    assert write.language == "fr"
    plan = plan_write(StatusWrite("7", "shipped", tuple(status.shipments), language="fr"), row())
    notes = plan.notes + [n.note for n in plan.add if n.note]
    assert notes and all(n.startswith("Suivre votre colis (Colissimo 6A1)") for n in notes)


def test_invoice_titles_follow_the_language_unless_the_settings_name_them() -> None:
    connection = ConnectionSettings.model_validate(
        {"erp": {"type": "files"}, "shop": {"type": "vendure"}, "language": "fr"}
    )
    assert invoice_title(connection, "invoice", "FA0001") == "Facture FA0001"
    assert invoice_title(connection, "credit_note", "AV0001") == "Avoir AV0001"
    named = ConnectionSettings.model_validate(
        {"erp": {"type": "files"}, "shop": {"type": "vendure"}, "invoices": {"title": "Votre facture {number}"}}
    )
    assert invoice_title(named, "invoice", "FA0001") == "Votre facture FA0001"
    english = ConnectionSettings.model_validate({"erp": {"type": "files"}, "shop": {"type": "vendure"}})
    assert invoice_title(english, "invoice", "INV-1") == "Invoice INV-1"
