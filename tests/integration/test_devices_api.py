"""Monitors over the API: the admin says where a monitor stands; everyone on the unit sees it."""

from __future__ import annotations

from api_support import ClientFactory, Role, snapshot

from infusionist.services.deps import Deps

MONITOR = "MON-07%5EUNIT"  # MSH-3^MSH-4, URL-encoded


def test_a_configured_monitor_that_never_sent_is_listed_as_silent(client_as: ClientFactory) -> None:
    admin = client_as(Role.ADMIN)
    response = admin.put(f"/devices/{MONITOR}", json={"place": "CHAIR-7", "interval_seconds": 60,
                                                      "description": "bay 2", "sources": ["10.1.2.0/24"]})
    assert response.status_code == 200, response.text
    assert response.json()["device_id"] == "MON-07^UNIT" and response.json()["place"] == "CHAIR-7"
    [listed] = client_as(Role.NURSE).get("/devices").json()
    assert listed["device_id"] == "MON-07^UNIT" and listed["configured"] and listed["silent"]
    assert listed["alert"]["code"] == "DEVICE-SILENT" and "CHAIR-7" in listed["alert"]["message"]
    assert listed["last_message_at"] is None


def test_a_bad_configuration_is_refused_naming_the_field_and_writes_nothing(
    deps: Deps, client_as: ClientFactory
) -> None:
    admin = client_as(Role.ADMIN)
    before = snapshot(deps)
    response = admin.put(f"/devices/{MONITOR}", json={"place": "CHAIR-7", "interval_seconds": 0,
                                                      "sources": ["10.1.2.3"]})
    assert response.status_code == 422
    assert "interval_seconds" in response.text
    assert snapshot(deps) == before
