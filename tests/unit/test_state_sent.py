"""Forgetting last-sent values: one key, or one key at every shop location."""

from __future__ import annotations

from tasks.state import StateStore


def test_forget_sent_with_locations_drops_every_location_of_the_key_only() -> None:
    store = StateStore("sqlite:///:memory:")
    keys = ["TSH_1", "TSH_1@web", "TSH_1@store", "TSHX1@web", "TSH_10@web", "MUG@web"]
    store.record_sent("main", "stock", [{"key": k, "value": {}, "content_hash": "h"} for k in keys], run_id="r")
    store.forget_sent("main", "stock", ["TSH_1"], locations=True)
    # "_" is a LIKE wildcard: TSHX1 must not match TSH_1, nor TSH_10 match TSH_1@.
    assert sorted(store.sent_hashes("main", "stock")) == ["MUG@web", "TSHX1@web", "TSH_10@web"]
    store.forget_sent("main", "stock", ["MUG"])
    assert "MUG@web" in store.sent_hashes("main", "stock")  # without locations: the exact key only
