"""PrestaShop status and document link sink against the fake webservice (captured PrestaShop 8.2
orders 1 (canceled, 6), 2 (awaiting check payment, 1) and 3 (payment error, 8), with their
order_carriers rows)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from connectors.base import CatalogueSink, DocumentLinkSink, StatusSink, StatusWrite, StockSink
from connectors.errors import Refused, Retryable
from connectors.models import Shipment
from connectors.shop.prestashop.client import PrestaShopClient
from connectors.shop.prestashop.common import PrestaShopOptions
from connectors.shop.prestashop.factory import PrestaShopShop, build
from deployments.sandbox.fakes.prestashop_fake import FakePrestaShop

KEY = "ZQ88PRJX5VWQHCWE4EE7SQ7HPNX00RAJ"
SHIPPED = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def fake() -> FakePrestaShop:
    return FakePrestaShop(KEY)


def shop_for(fake: FakePrestaShop) -> PrestaShopShop:
    client = PrestaShopClient(
        "http://shop.test", KEY, allow_insecure_http=True, transport=fake.transport(), max_retries=0, backoff=0
    )
    return PrestaShopShop(client)


def histories(fake: FakePrestaShop, order: str) -> list[str]:
    return [h["id_order_state"] for h in fake.data["order_histories"] if h["id_order"] == order]


def test_shop_implements_status_and_document_link_sinks(fake: FakePrestaShop) -> None:
    shop = shop_for(fake)
    assert isinstance(shop, StatusSink) and isinstance(shop, DocumentLinkSink)


def test_read_statuses_maps_prestashop_states(fake: FakePrestaShop) -> None:
    fake.record("orders", 3)["current_state"] = "4"
    assert shop_for(fake).read_statuses(["1", "2", "3", "999"]) == {"1": "cancelled", "2": "open", "3": "shipped"}
    fake.record("orders", 2)["current_state"] = "2"  # payment accepted
    assert shop_for(fake).read_statuses(["2"]) == {"2": "processing"}


def test_shipped_puts_tracking_then_history_row_with_email(fake: FakePrestaShop) -> None:
    shop = shop_for(fake)
    before = histories(fake, "2")
    parcel = Shipment("OUT/7", "Colissimo", "6A12345678901", shipped_at=SHIPPED)
    result = shop.write_statuses([StatusWrite("2", "shipped", (parcel,), notify=True)])
    assert result.errors == []
    assert fake.record("order_carriers", 2)["tracking_number"] == "6A12345678901"
    assert fake.record("order_carriers", 2)["shipping_cost_tax_incl"] == "8.400000"  # the row sent back whole
    assert histories(fake, "2") == [*before, "4"]
    assert fake.record("orders", 2)["current_state"] == "4"
    assert fake.emails == [("2", "4")]
    order = [(w[0], w[1]) for w in fake.writes]
    assert order == [("PUT", "order_carriers"), ("POST", "order_histories")]  # tracking first
    # Again: nothing written (no second history row, tracking already there).
    writes = len(fake.writes)
    assert shop.write_statuses([StatusWrite("2", "shipped", (parcel,), notify=True)]).errors == []
    assert len(fake.writes) == writes


def test_no_email_without_notify_and_unknown_order_is_a_record_error(fake: FakePrestaShop) -> None:
    result = shop_for(fake).write_statuses(
        [StatusWrite("2", "processing", notify=False), StatusWrite("999", "shipped")]
    )
    assert [(e.key, e.field) for e in result.errors] == [("999", "order")]
    assert histories(fake, "2")[-1] == "3" and fake.emails == []


def test_link_document_is_a_public_customer_message_added_once(fake: FakePrestaShop) -> None:
    shop = shop_for(fake)
    url = "https://docs.example.com/inv/FA-1.pdf"
    first = shop.link_document("2", "Invoice FA-1", url, key="invoice:FA-1")
    assert shop.link_document("2", "Invoice FA-1", url, key="invoice:FA-1") == first
    (thread,) = fake.data["customer_threads"]
    assert (thread["id_order"], thread["id_customer"], thread["email"]) == ("2", "2", "pub@prestashop.com")
    message, key = fake.data["customer_messages"]
    assert message["private"] == "0" and message["id_customer_thread"] == str(thread["id"])
    assert message["message"] == f"Invoice FA-1: {url}"  # what the customer reads: no internal key
    assert (key["private"], key["message"], key["id_customer_thread"]) == ("1", "ref: invoice:FA-1", str(thread["id"]))
    # A second document goes into the same thread.
    shop.link_document("2", "Credit note AV-1", url + "?2", key="credit_note:AV-1")
    assert len(fake.data["customer_threads"]) == 1 and len(fake.data["customer_messages"]) == 4


def test_link_document_on_unknown_order_is_refused(fake: FakePrestaShop) -> None:
    with pytest.raises(Refused):
        shop_for(fake).link_document("999", "Invoice", "https://x/y.pdf", key="k")


def test_build_passes_the_settings_to_the_sinks() -> None:
    class Resolver:
        def secret(self, name: str) -> str:
            return KEY

        def path(self, value: str) -> str:
            return value

    shop = build(
        {"url": "https://shop.example.com", "key": "env:K", "groups": {"Revendeurs": 4}, "shipped_state": 14},
        Resolver(),  # type: ignore[arg-type]
    )
    assert isinstance(shop, StatusSink) and isinstance(shop, CatalogueSink) and isinstance(shop, StockSink)
    assert shop.options.groups == {"Revendeurs": "4"} and shop.options.shipped_state == "14"
    shop.close()


def test_custom_state_ids_are_written_and_read(fake: FakePrestaShop) -> None:
    client = PrestaShopClient(
        "http://shop.test", KEY, allow_insecure_http=True, transport=fake.transport(), max_retries=0, backoff=0
    )
    shop = PrestaShopShop(client, options=PrestaShopOptions(shipped_state="14"))
    assert shop.write_statuses([StatusWrite("2", "shipped", notify=False)]).errors == []
    assert fake.record("orders", 2)["current_state"] == "14"
    assert shop.read_statuses(["2"]) == {"2": "shipped"}


def test_a_server_error_without_error_document_is_retryable_not_a_refusal(fake: FakePrestaShop) -> None:
    shop = shop_for(fake)
    fake.fail = [503]  # an HTML 503 (maintenance): maybe applied, so the run retries and checks
    with pytest.raises(Retryable):
        shop.client.create("order_histories", {"id_order": "2", "id_order_state": "3"})
    assert histories(fake, "2") == ["1"]


def test_a_state_the_orders_newest_history_row_holds_is_not_added_again(fake: FakePrestaShop) -> None:
    """An earlier attempt saved the row and answered an error: the row is read before any POST."""
    fake.data["order_histories"].append(
        {"id": 99, "id_employee": "0", "id_order_state": "4", "id_order": "2", "date_add": "2026-11-23 10:00:00"}
    )
    result = shop_for(fake).write_statuses([StatusWrite("2", "shipped", notify=True)])
    assert result.errors == [] and result.answers["2"]["history"] == "99"
    assert histories(fake, "2") == ["1", "4"] and fake.emails == []
    assert not [w for w in fake.writes if w[1] == "order_histories"]


def test_a_500_after_the_state_was_saved_says_so_and_a_refusal_stays_a_refusal(fake: FakePrestaShop) -> None:
    fake.mail_fails = True
    (saved,) = shop_for(fake).write_statuses([StatusWrite("2", "shipped", notify=True)]).errors
    assert "PrestaShop saved state 4" in saved.reason and "e-mail was most likely not sent" in saved.reason
    assert histories(fake, "2") == ["1", "4"]
    (refused,) = shop_for(fake).write_statuses([StatusWrite("999", "shipped")]).errors
    assert refused.field == "order" and "saved" not in refused.reason


def test_a_state_change_whose_answer_was_lost_is_checked_not_posted_again(fake: FakePrestaShop) -> None:
    """A POST is not idempotent: the HTTP layer does not send it again after a timeout (even with
    retries allowed), and the task's retry reads the order's history before adding a row."""
    client = PrestaShopClient(
        "http://shop.test", KEY, allow_insecure_http=True, transport=fake.transport(), max_retries=3, backoff=0
    )
    shop = PrestaShopShop(client)
    fake.lost = ["order_histories"]
    with pytest.raises(Retryable):
        shop.write_statuses([StatusWrite("2", "shipped", notify=True)])
    posts = [r for r in fake.requests if r.method == "POST" and r.url.path.endswith("/order_histories")]
    assert len(posts) == 1 and histories(fake, "2") == ["1", "4"]  # saved once, never re-sent in place
    again = shop.write_statuses([StatusWrite("2", "shipped", notify=True)])  # what the task's retry runs
    assert again.errors == [] and "moved_to" not in again.answers["2"]  # the state is there: nothing sent
    assert histories(fake, "2") == ["1", "4"] and fake.emails == [("2", "4")]  # one row, one e-mail
