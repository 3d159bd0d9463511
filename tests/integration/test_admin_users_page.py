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
