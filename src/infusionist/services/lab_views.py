"""The read models of laboratory results: a stored result, the alerts it raised and the
physician's review tasks they became."""

from __future__ import annotations

from infusionist.domain.records import LabResultRecord
from infusionist.services.read_model import ReadModel


class LabResultView(ReadModel):
    """A stored result (values as the decimal text they were stored as; no identity)."""

    id: int
    patient_id: int
    course_id: int
    analyte: str
    value: str
    unit: str
    reference_low: str | None
    reference_high: str | None
    taken_on: str
    recorded_by: str
    recorded_at: str


class FlaggedLabResultView(LabResultView):
    alerts: list[str]  # the alert codes it raised, read back from its review tasks


class LabAlertView(ReadModel):
    code: str
    work_up: str
    message: str
    requirements: list[str]


class ReviewTaskView(ReadModel):
    task_id: int
    activity_id: str
    task: str
    kind: str
    due: str


class LabResultRecorded(ReadModel):
    result: LabResultView
    alerts: list[LabAlertView]
    review_tasks: list[ReviewTaskView]


def result_view(result: LabResultRecord) -> LabResultView:
    return LabResultView(
        id=result.id, patient_id=result.patient_id, course_id=result.course_id,
        analyte=result.analyte, value=result.value, unit=result.unit,
        reference_low=result.reference_low, reference_high=result.reference_high,
        taken_on=result.taken_on.isoformat(), recorded_by=result.recorded_by,
        recorded_at=result.recorded_at.isoformat())
