"""Protocol identity: every plan records the protocol's id, version and content digest, and a
released version never changes under the same version number."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from day_builders import PLAN, PROTOCOL, make_plan

from infusionist.adapters.protocol_files import (
    bundled_protocol_path,
    inspect_protocol,
    load_protocol,
    release_record,
)
from infusionist.domain.errors import ProtocolError
from infusionist.domain.plan_json import plan_from_json, plan_to_json
from infusionist.domain.protocol_identity import (
    ReleasedProtocol,
    ReleaseRecord,
    check_release,
    protocol_digest,
)
from infusionist.domain.units import Quantity

BUNDLED = bundled_protocol_path("alemtuzumab-ms")


def _record(digest: str) -> ReleaseRecord:
    return ReleaseRecord(released=(
        ReleasedProtocol(id="alemtuzumab-ms", version="1.0.0", digest=digest),))


def test_the_digest_is_sha256_of_the_content_not_of_the_layout__PROT_11(tmp_path: Path):
    digest = protocol_digest(PROTOCOL)
    assert digest.startswith("sha256:") and len(digest) == len("sha256:") + 64
    # Same content, another layout: no comments, keys in another order, block style.
    data = yaml.safe_load(BUNDLED.read_text(encoding="utf-8"))
    relaid = tmp_path / "relaid.yaml"
    relaid.write_text(yaml.safe_dump(dict(reversed(list(data.items()))), sort_keys=True,
                                     allow_unicode=True), encoding="utf-8")
    assert protocol_digest(load_protocol(relaid)) == digest


def test_any_change_of_content_changes_the_digest__PROT_11_C_7():
    changed = PROTOCOL.model_copy(update={"infusion": PROTOCOL.infusion.model_copy(
        update={"target_duration": Quantity.model_validate({"value": 241, "unit": "min"})})})
    assert protocol_digest(changed) != protocol_digest(PROTOCOL)


def test_the_bundled_protocol_is_the_released_version__PROT_11():
    released = release_record().find(PROTOCOL.id, PROTOCOL.version)
    assert released is not None, "protocols/released.yaml has no record of the bundled version"
    assert released.digest == protocol_digest(PROTOCOL), (
        "The bundled protocol differs from its release record: give it a new version and add "
        "the line printed by `infusionist protocol digest` to src/infusionist/protocols/released.yaml.")
    loaded = inspect_protocol(BUNDLED)
    assert (loaded.status, loaded.digest) == ("released", released.digest)


def test_a_file_that_differs_from_the_released_version_is_refused__PROT_11():
    with pytest.raises(ProtocolError) as refused:
        check_release(PROTOCOL, _record("sha256:" + "0" * 64))
    assert refused.value.code == "PROTOCOL-CHANGED-WITHOUT-VERSION"
    assert refused.value.message.startswith(
        "This file differs from released alemtuzumab-ms 1.0.0: change the version.")


def test_a_version_not_yet_released_is_accepted_as_not_released__PROT_11():
    other = PROTOCOL.model_copy(update={"version": "1.1.0"})
    assert check_release(other, _record(protocol_digest(PROTOCOL))) == (
        "not released", protocol_digest(other))


def test_load_refuses_an_edited_copy_under_the_released_version__PROT_11(tmp_path: Path):
    edited = tmp_path / "edited.yaml"
    text = BUNDLED.read_text(encoding="utf-8")
    edited.write_text(text.replace("target_duration: {value: 240, unit: min}",
                                   "target_duration: {value: 180, unit: min}"), encoding="utf-8")
    with pytest.raises(ProtocolError, match=r"differs from released alemtuzumab-ms 1\.0\.0"):
        load_protocol(edited)
    renamed = tmp_path / "renamed.yaml"
    renamed.write_text(edited.read_text(encoding="utf-8").replace("version: 1.0.0",
                                                                   "version: 1.1.0"),
                       encoding="utf-8")
    assert inspect_protocol(renamed).status == "not released"


def test_every_plan_records_the_protocol_id_version_and_digest__PROT_11():
    assert (PLAN.protocol_id, PLAN.protocol_version) == ("alemtuzumab-ms", "1.0.0")
    assert PLAN.protocol_digest == protocol_digest(PROTOCOL)
    data = plan_to_json(PLAN)
    assert data["protocol"] == {"id": "alemtuzumab-ms", "version": "1.0.0",
                                "digest": protocol_digest(PROTOCOL)}
    assert plan_from_json(data).protocol_digest == PLAN.protocol_digest


def test_the_digest_is_of_the_released_protocol_not_of_the_centre_choices__PROT_11():
    from infusionist.domain.centre import CentreConfig
    from infusionist.domain.planning import PlanRequest, plan_course

    request = PlanRequest(PLAN.patient, 1, PLAN.first_day, PLAN.days[0].infusion_start.time(),
                          PLAN.days[0].infusion_start.tzinfo, "Europe/Berlin")  # type: ignore[arg-type]
    other = plan_course(PROTOCOL, request, CentreConfig(vital_signs_interval_minutes=60))
    assert other.protocol_digest == PLAN.protocol_digest


def test_a_plan_stored_before_digests_is_still_readable__PROT_11():
    data = plan_to_json(make_plan())
    data["protocol"] = {"id": "alemtuzumab-ms", "version": "1.0.0"}
    old = plan_from_json(data)
    assert old.protocol_digest is None and old.days == PLAN.days
