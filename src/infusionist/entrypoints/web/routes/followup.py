"""The follow-up worklist and closing a task (``GET /worklist``, ``POST /tasks/{id}/close``)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from infusionist.entrypoints.web.dependencies import ContextDep, ServicesDep
from infusionist.entrypoints.web.errors import ERROR_RESPONSES
from infusionist.services import followup

router = APIRouter(tags=["follow-up"], responses=ERROR_RESPONSES)
TaskId = Path(ge=1, le=2**31 - 1)
WorklistDate = Annotated[dt.date | None, Query(description="Default: today at the centre")]


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
    tasks: list[WorklistTask]


class TaskCloseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["done", "cancelled"]
    reason: str | None = Field(default=None, max_length=1000,
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
def worklist(ctx: ContextDep, deps: ServicesDep, date: WorklistDate = None) -> dict[str, Any]:
    """Every patient's due and overdue follow-up tasks, most urgent first."""
    today = date if date is not None else followup.centre_today(deps)
    return {"date": today.isoformat(), "tasks": followup.due_worklist(deps, ctx, today)}


@router.post("/tasks/{task_id}/close", response_model=TaskClosedOut)
def close_task(body: TaskCloseIn, ctx: ContextDep, deps: ServicesDep,
               task_id: int = TaskId) -> dict[str, Any]:
    """Close a task as done or cancelled (with a reason); 409 when it is already closed."""
    return followup.close_task(deps, ctx, task_id, body.status, body.reason)
