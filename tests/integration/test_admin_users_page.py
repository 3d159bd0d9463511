"""The users page is the admin's: every other role is refused and nothing is written."""

from __future__ import annotations

import pytest
from api_support import ClientFactory, Role, snapshot

from infusionist.services.deps import Deps


@pytest.mark.parametrize("role", [Role.NURSE, Role.PHYSICIAN, Role.INVESTIGATOR])
def test_only_the_admin_may_see_or_add_users(deps: Deps, client_as: ClientFactory, role: Role) -> None:
    client = client_as(role)
    page = str(client.base_url).removesuffix("/api/v1/") + "/admin/users"
    assert client.get(page).status_code == 403
    before = snapshot(deps)
    form = {"username": "sam", "full_name": "Sam Sister", "role": "admin",
            "password": "sister-sam-1", "password_again": "sister-sam-1"}
    assert client.post(page, data=form).status_code == 403
    assert client.post(page, data={**form, "password_again": "typo"}).status_code == 403
    assert snapshot(deps) == before
    assert client_as(Role.ADMIN).get(page).status_code == 200


@pytest.mark.parametrize("role", [Role.NURSE, Role.PHYSICIAN, Role.INVESTIGATOR])
def test_only_the_admin_may_change_users_settings_or_monitors_in_the_pages(
    deps: Deps, client_as: ClientFactory, role: Role
) -> None:
    client = client_as(role)
    site = str(client.base_url).removesuffix("/api/v1/")
    before = snapshot(deps)
    for path, form in (("/admin/users/1/active", {"active": "0"}), ("/admin/users/1/role", {"role": "admin"}),
                       ("/admin/users/1/password", {"password": "x" * 12, "password_again": "x" * 12}),
                       ("/admin/centre", {"contact_phone": "1"}),
                       ("/monitors", {"device_id": "M^U", "place": "C-1", "interval_seconds": "60"}),
                       ("/monitors/retire", {"device_id": "M^U"})):
        assert client.post(site + path, data=form).status_code == 403, path
    assert snapshot(deps) == before


def test_a_page_shows_no_message_from_the_url(client_as: ClientFactory) -> None:
    client = client_as(Role.NURSE)
    site = str(client.base_url).removesuffix("/api/v1/")
    page = client.get(site + "/patients?notice=Dose%20approved&error=Call%20555")
    assert page.status_code == 200
    assert "Dose approved" not in page.text and "Call 555" not in page.text
