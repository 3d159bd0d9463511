"""The follow-up worklist, closing a task and answering a delayed-reaction call
(``GET /worklist``, ``POST /tasks/{id}/close``, ``POST /tasks/{id}/answer``)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import AwareDatetime, BaseModel, Field

from infusionist.domain.limits import TEXT_MAX_LENGTH
from infusionist.entrypoints.web.dependencies import ContextDep, ServicesDep
from infusionist.entrypoints.web.errors import ERROR_RESPONSES
from infusionist.entrypoints.web.schemas import Input
from infusionist.entrypoints.web.schemas_day import EventOut
from infusionist.services import followup

router = APIRouter(tags=["follow-up"], responses=ERROR_RESPONSES)
TaskId = Path(ge=1, le=2**31 - 1)
WorklistDate = Annotated[dt.date | None, Query(description="Default: today at the centre")]
WorklistLimit = Annotated[int, Query(ge=1, le=followup.MAX_PAGE_SIZE,
                                     description="Tasks on this page, most urgent first")]
WorklistOffset = Annotated[int, Query(ge=0, le=2**31 - 1, description="Tasks skipped before the page")]


class WorklistPatient(BaseModel):
    id: int
    pseudonym: str
    name: str | None = Field(default=None, description="Only for roles that see identity")


class WorklistTask(BaseModel):
    task_id: int
    patient: WorklistPatient
    course_id: int
    course: int
    activity_id: str
    task: str
    kind: str
    due: str
    opens: str
    overdue_from: str
    status: Literal["due", "overdue"]
    days_overdue: int = Field(description="Days past the due date when overdue, else 0")


class WorklistOut(BaseModel):
    date: str
    total: int = Field(description="Open tasks on the whole worklist (every page)")
    overdue: int = Field(description="Of these, how many are overdue")
    limit: int
    offset: int
    tasks: list[WorklistTask]


class TaskCloseIn(Input):
    status: Literal["done", "cancelled"]
    reason: str | None = Field(default=None, max_length=TEXT_MAX_LENGTH,
                               description="Required to cancel and to close a physician's review")


class TaskClosedOut(BaseModel):
    task_id: int
    course_id: int
    activity_id: str
    task: str
    due: str
    status: Literal["done", "cancelled"]
    closed_on: str
    reason: str | None


@router.get("/worklist", response_model=WorklistOut, response_model_exclude_none=True)
def worklist(ctx: ContextDep, deps: ServicesDep, date: WorklistDate = None,
             limit: WorklistLimit = followup.PAGE_SIZE, offset: WorklistOffset = 0) -> WorklistOut:
    """Every patient's due and overdue follow-up tasks, most urgent first, one page at a time,
    with the total and overdue counts of the whole worklist."""
    today = date if date is not None else followup.centre_today(deps)
    return WorklistOut.model_validate(followup.worklist_page(deps, ctx, today, limit, offset),
                                      from_attributes=True)


@router.post("/tasks/{task_id}/close", response_model=TaskClosedOut)
def close_task(body: TaskCloseIn, ctx: ContextDep, deps: ServicesDep,
               task_id: int = TaskId) -> TaskClosedOut:
    """Close a task as done or cancelled (with a reason); 409 when it is already closed."""
    return TaskClosedOut.model_validate(followup.close_task(deps, ctx, task_id, body.status, body.reason),
                                        from_attributes=True)


class CallAnswerIn(Input):
    symptoms: list[Annotated[str, Field(max_length=100)]] = Field(default_factory=list, max_length=50,
                                description="Symptom ids the patient reports; empty: none")
    onset: AwareDatetime | None = Field(default=None,
                                        description="When the reaction began (ISO 8601 with offset); "
                                                    "required with symptoms")
    note: str | None = Field(default=None, max_length=TEXT_MAX_LENGTH)


class CallAnsweredOut(BaseModel):
    task_id: int
    course_id: int
    activity_id: str
    task: str
    infusion_day: int | None
    status: Literal["done"]
    closed_on: str
    reason: str | None
    reaction: EventOut | None = Field(description="The reaction_onset event appended to the "
                                                        "infusion day, when symptoms were reported")


@router.post("/tasks/{task_id}/answer", response_model=CallAnsweredOut)
def answer_call(body: CallAnswerIn, ctx: ContextDep, deps: ServicesDep,
                task_id: int = TaskId) -> CallAnsweredOut:
    """Answer a delayed-reaction call: the call is done; reported symptoms are recorded as a
    reaction against its infusion day (IAR-15, IAR-17). 409 when the task is not an open call."""
    answered = followup.answer_call(deps, ctx, task_id, followup.CallAnswerCommand(
        symptoms=tuple(body.symptoms), onset=body.onset, note=body.note))
    return CallAnsweredOut.model_validate(answered, from_attributes=True)
