from __future__ import annotations

from fastapi import APIRouter, Path

from infusionist.entrypoints.web.dependencies import ContextDep, ServicesDep
from infusionist.entrypoints.web.errors import ERROR_RESPONSES, THROTTLED_RESPONSE
from infusionist.entrypoints.web.schemas import CourseOut, EventIn, TaskOut
from infusionist.entrypoints.web.schemas_day import DayStateOut, EventOut
from infusionist.services import courses, events

router = APIRouter(tags=["courses"], responses=ERROR_RESPONSES)
CourseId = Path(ge=1, le=2**31 - 1)
Day = Path(ge=1, le=31)


def course_out(course: courses.CourseView) -> CourseOut:
    return CourseOut.model_validate(course.as_json())


def _event_out(event: events.EventView) -> EventOut:
    return EventOut.model_validate(event.model_dump())


@router.get("/courses/{course_id}", response_model=CourseOut)
def get_course(ctx: ContextDep, deps: ServicesDep, course_id: int = CourseId) -> CourseOut:
    return course_out(courses.get_course(deps, ctx, course_id))


@router.get("/courses/{course_id}/tasks", response_model=list[TaskOut])
def list_tasks(ctx: ContextDep, deps: ServicesDep, course_id: int = CourseId) -> list[TaskOut]:
    return [TaskOut.model_validate(t.as_json()) for t in courses.list_tasks(deps, ctx, course_id)]


@router.get("/courses/{course_id}/days/{day}/events", response_model=list[EventOut])
def list_events(ctx: ContextDep, deps: ServicesDep, course_id: int = CourseId,
                day: int = Day) -> list[EventOut]:
    return [_event_out(e) for e in events.list_events(deps, ctx, course_id, day)]


@router.post("/courses/{course_id}/days/{day}/events", response_model=EventOut, status_code=201,
             responses=THROTTLED_RESPONSE)
def append_event(body: EventIn, ctx: ContextDep, deps: ServicesDep, course_id: int = CourseId,
                 day: int = Day) -> EventOut:
    """Append one event; ``expected_seq`` must be the next sequence number, else 409. A signed
    event with a wrong password counts as a failed log-in of the account (429 when throttled)."""
    signature = (events.Signature(body.signature.password, body.signature.meaning)
                 if body.signature is not None else None)
    return _event_out(events.append_event(deps, ctx, events.AppendEvent(
        course_id=course_id, day=day, expected_seq=body.expected_seq, payload=body.event,
        signature=signature)))


@router.get("/courses/{course_id}/days/{day}/state", response_model=DayStateOut,
            response_model_exclude_unset=True)
def day_state(ctx: ContextDep, deps: ServicesDep, course_id: int = CourseId,
              day: int = Day) -> DayStateOut:
    """The replay of the day's events now: phase, pump, alerts, what to do next
    (docs/day-events.md). Texts an investigator may not read are left out."""
    return DayStateOut.model_validate(events.day_state(deps, ctx, course_id, day).as_json())
