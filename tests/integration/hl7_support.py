"""HL7 test helpers: a unit with an infusion day today, ORU^R01 builders, a listener on a free port."""

from __future__ import annotations

import asyncio
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from hl7.client import MLLPClient

from infusionist.adapters.hl7.mllp import BatchHandler, MllpLimits, MllpServer
from infusionist.domain.access import Role
from infusionist.domain.device_readings import DeviceRecord
from infusionist.domain.records import Actor, Context
from infusionist.entrypoints.hl7.intake import Intake
from infusionist.services.centres import configure_centre
from infusionist.services.courses import CreateCourse, create_course
from infusionist.services.deps import Deps
from infusionist.services.device_vitals import configure_device
from infusionist.services.patients import RegisterPatient, register_patient

ZONE = "Europe/Berlin"
PHYSICIAN = Context(Actor(0, "dr-test", "Dr Test", Role.PHYSICIAN), "test")
NURSE_CTX = Context(Actor(0, "nurse-test", "Nurse Test", Role.NURSE), "test")
ADMIN_CTX = Context(Actor(0, "admin-test", "Admin Test", Role.ADMIN), "test")
LOCAL = ("127.0.0.1", "::1")  # where the tests' MLLP client connects from

NORMAL = {"8867-4": ("72", "/min"), "8480-6": ("124", "mm[Hg]"), "8462-4": ("78", "mm[Hg]"),
          "8310-5": ("36.8", "Cel"), "9279-1": ("14", "/min"), "59408-5": ("98", "%")}


@dataclass(frozen=True)
class Unit:
    patient_id: int
    pseudonym: str
    course_id: int


def unit_with_day_today(deps: Deps, *, name: str = "Max Muster") -> Unit:
    """A patient whose course has infusion day 1 today (in the centre's zone)."""
    admin = Context(Actor(0, "admin-test", "Admin Test", Role.ADMIN), "test")
    configure_centre(deps, admin, "default", {"name": "Test unit", "timezone": ZONE,
                                              "allow_weekend_infusions": True}, "test unit")
    patient = register_patient(deps, PHYSICIAN, RegisterPatient(name=name, birth_date=None, sex="male"))
    today = datetime.now(ZoneInfo(ZONE)).date()
    course = create_course(deps, PHYSICIAN, CreateCourse(patient_id=patient["id"], course=1,
                                                           first_day=today, timezone=ZONE))
    return Unit(patient["id"], patient["pseudonym"], course["id"])


def register(deps: Deps, sender: str = "MON-01^INFUSION", place: str = "CHAIR-1", *,
             sources: tuple[str, ...] = LOCAL) -> None:
    """Register a monitor (admin) so that the listener hears it."""
    configure_device(deps, ADMIN_CTX, DeviceRecord(device_id=sender, place=place, interval_seconds=60,
                                                   sources=sources))


def oru(control_id: str, patient: str, *, sender: str = "MON-01", facility: str = "INFUSION",
        chair: str = "CHAIR-1", obs: dict[str, tuple[str, str]] | None = None, system: str = "LN",
        message_type: str = "ORU^R01^ORU_R01", when: str = "") -> str:
    """An ORU^R01 (IHE PCD-01 shape); ``when`` empty: no observation time (receipt time is used)."""
    observations = obs if obs is not None else NORMAL
    segments = [
        f"MSH|^~\\&|{sender}|{facility}|INFUSIONIST|UNIT|{when}||{message_type}|{control_id}|P|2.6",
        f"PID|||{patient}^^^INFUSIONIST^PI||Muster^Max",
        f"PV1||O|{chair}",
        f"OBR|1|||182777000^monitoring of patient^SCT|||{when}",
    ]
    for index, (code, (value, unit)) in enumerate(observations.items(), start=1):
        segments.append(f"OBX|{index}|NM|{code}^^{system}||{value}|{unit}^^UCUM|||||F|||{when}")
    return "\r".join(segments) + "\r"


def ack_fields(ack: bytes | str) -> dict[str, Any]:
    """MSA-1, MSA-2 and the ERR segment's fields of an ACK as received over MLLP."""
    text = ack.decode("utf-8") if isinstance(ack, bytes) else ack
    text = text.strip("\x0b\x1c\r\n")
    segments = {s.split("|")[0]: s.split("|") for s in text.split("\r") if s}
    msa = segments["MSA"]
    return {"code": msa[1], "control_id": msa[2], "err": segments.get("ERR"), "text": text}


@contextmanager
def listening(deps: Deps, limits: MllpLimits | None = None, tls: ssl.SSLContext | None = None) -> Iterator[int]:
    """The MLLP listener in a background thread with its own event loop; yields its port."""
    with serving(Intake(deps), limits, tls) as (_server, port):
        yield port


@contextmanager
def serving(handler: BatchHandler, limits: MllpLimits | None = None,
            tls: ssl.SSLContext | None = None) -> Iterator[tuple[MllpServer, int]]:
    """An MLLP server over ``handler`` in a background thread; yields it and its port."""
    loop = asyncio.new_event_loop()
    server = MllpServer(handler, limits=limits, tls=tls)
    port = loop.run_until_complete(server.start("127.0.0.1", 0))
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield server, port
    finally:
        asyncio.run_coroutine_threadsafe(server.close(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def send(port: int, *messages: str) -> list[dict[str, Any]]:
    """Send each message over one MLLP connection with the hl7 package's client; the ACKs."""
    with MLLPClient("127.0.0.1", port) as client:
        return [ack_fields(client.send_message(message)) for message in messages]
