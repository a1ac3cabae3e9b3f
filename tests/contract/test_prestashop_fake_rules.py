"""The PrestaShop fake answers as PrestaShop 8 does where its source says so (each rule's source is
named in deployments/sandbox/fakes/prestashop_fake.py): the answers a connector could meet on a live shop."""

from __future__ import annotations

import httpx
import pytest

from connectors.errors import Fatal
from connectors.shop.prestashop.client import PrestaShopClient, WriteRefused
from deployments.sandbox.fakes.prestashop_fake import FakePrestaShop

KEY = "ZQ88PRJX5VWQHCWE4EE7SQ7HPNX00RAJ"


@pytest.fixture
def fake() -> FakePrestaShop:
    return FakePrestaShop(KEY)


@pytest.fixture
def client(fake: FakePrestaShop) -> PrestaShopClient:
    return PrestaShopClient(
        "http://shop.test", KEY, allow_insecure_http=True, transport=fake.transport(), max_retries=0, backoff=0
    )


def raw_get(fake: FakePrestaShop, resource: str, **params: str) -> httpx.Response:
    http = httpx.Client(transport=fake.transport(), base_url="http://shop.test/api/")
    return http.get(resource, params={"ws_key": KEY, "output_format": "JSON", **params})


def test_dates_are_filtered_and_sorted_only_with_date_1(fake: FakePrestaShop) -> None:
    """manageFilters drops date_add / date_upd from the filters unless date=1: any filter on them."""
    moment = str(fake.record("orders", 1)["date_upd"])
    refused = raw_get(fake, "orders", **{"filter[date_upd]": f"[{moment}]"})
    assert refused.status_code == 400 and refused.json()["errors"][0]["code"] == 32
    assert raw_get(fake, "orders", sort="[date_upd_ASC]").json()["errors"][0]["code"] == 38
    found = raw_get(fake, "orders", **{"filter[date_upd]": f"[{moment}]", "date": "1", "sort": "[date_upd_ASC]"})
    assert {"id": 1} in found.json()["orders"]


def test_interval_bounds_are_sorted_as_prestashop_does(fake: FakePrestaShop) -> None:
    ids = raw_get(fake, "orders", **{"filter[id]": "[3,2]"}).json()["orders"]
    assert ids == [{"id": 2}, {"id": 3}]


def test_write_errors_carry_prestashops_status_and_code(fake: FakePrestaShop, client: PrestaShopClient) -> None:
    http = httpx.Client(transport=fake.transport(), base_url="http://shop.test/api/", auth=(KEY, ""))
    broken = http.post("products", content=b"<prestashop><product>")
    assert broken.status_code == 500 and "<code><![CDATA[127]]></code>" in broken.text  # XML error
    with pytest.raises(WriteRefused) as unknown:
        client.update("categories", "999", {"id_parent": "2", "active": "1"})
    assert unknown.value.status == 404 and unknown.value.messages == ["Invalid ID"]
    with pytest.raises(Fatal, match="does not allow"):
        client.create("stock_availables", {"id_product": "1", "quantity": "1"})  # forbidden_method: 405
    colours = http.post(
        "products",
        content=b"<prestashop><product><price>1</price><associations><colours><colour><id>1</id></colour>"
        b"</colours></associations></product></prestashop>",
    )
    assert colours.status_code == 400 and 'The association "colours" does not exists' in colours.text


def test_a_multilingual_required_field_must_be_in_the_default_language(client: PrestaShopClient) -> None:
    """ObjectModel::validateFieldsLang checks required values in PS_LANG_DEFAULT only."""
    group = {"is_color_group": "0", "group_type": "select"}
    with pytest.raises(WriteRefused, match=r"Property AttributeGroup->name is empty\."):
        client.create(
            "product_options",
            {**group, "name": [{"id": "2", "value": "Taille"}], "public_name": [{"id": "2", "value": "Taille"}]},
        )


def test_languages_not_sent_are_saved_as_getfieldslang_does(fake: FakePrestaShop, client: PrestaShopClient) -> None:
    """A required multilingual field takes the default language's value; another one stays empty
    (a product's name is not required in PrestaShop 8.2: products synopsis)."""
    one = [{"id": "1", "value": "Taille"}]
    group = client.create(
        "product_options", {"is_color_group": "0", "group_type": "select", "name": one, "public_name": one}
    )
    assert fake.record("product_options", int(group))["name"] == [*one, {"id": "2", "value": "Taille"}]
    ident = client.create("products", {"price": "1.000000", "name": [{"id": "1", "value": "Mug"}]})
    assert fake.record("products", int(ident))["name"] == [{"id": "1", "value": "Mug"}, {"id": "2", "value": ""}]


def test_a_state_e_mail_is_sent_only_for_a_state_that_sends_one(fake: FakePrestaShop, client: PrestaShopClient) -> None:
    fake.record("order_states", 3)["send_email"] = "0"
    client.create("order_histories", {"id_order": "2", "id_order_state": "3"}, params={"sendemail": "1"})
    client.create("order_histories", {"id_order": "2", "id_order_state": "4"}, params={"sendemail": "1"})
    assert fake.emails == [("2", "4")]
    assert fake.record("orders", 2)["current_state"] == "4"


def test_the_json_root_list_answers_500_as_observed(fake: FakePrestaShop) -> None:
    """Contracts README (observed on the real server): ``/api/?output_format=JSON`` answers 500."""
    assert raw_get(fake, "").status_code == 500
