"""Reading protocol and centre-configuration YAML files into validated domain models."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from infusionist.domain.centre import CentreConfig
from infusionist.domain.errors import ConfigError, ProtocolError
from infusionist.domain.protocol import Protocol
from infusionist.domain.protocol_drugs import LibraryFinding, check_protocol
from infusionist.domain.protocol_identity import ReleaseRecord, ReleaseStatus, check_release

ModelT = TypeVar("ModelT", bound=BaseModel)
# libyaml's safe loader is about 8x faster than the pure-Python one; both are safe loaders.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def bundled_protocol_path(protocol_id: str) -> Path:
    return Path(str(resources.files("infusionist.protocols").joinpath(f"{protocol_id}.yaml")))


def default_protocol_id() -> str:
    """The protocol used when none is named (``default`` in ``protocols/released.yaml``)."""
    default = release_record().default
    if default is None:
        raise ProtocolError("PROTOCOL-NOT-FOUND", "The release record names no default protocol.")
    return default


def bundled_protocol_ids() -> list[str]:
    """The ids of the protocols shipped with the product (``protocols/*.yaml``), sorted."""
    folder = resources.files("infusionist.protocols")
    return sorted(
        entry.name.removesuffix(".yaml") for entry in folder.iterdir()
        if entry.name.endswith(".yaml") and entry.name != "released.yaml"
    )


def load_bundled_protocol(protocol_id: str) -> Protocol:
    """A bundled protocol by id; ``PROTOCOL-NOT-FOUND`` names the ones there are."""
    if protocol_id not in bundled_protocol_ids():
        raise ProtocolError(
            "PROTOCOL-NOT-FOUND",
            f"There is no protocol {protocol_id!r}; the protocols are "
            f"{', '.join(bundled_protocol_ids())}.",
        )
    return load_protocol(bundled_protocol_path(protocol_id))


def load_protocol(path: Path | str | None = None) -> Protocol:
    """Load, validate and check a protocol file; the bundled default protocol by default.

    Refused: a file that changes a released version without a new version, and a protocol that
    schedules a drug outside its drug library's hard limits (or a drug not in the library).
    """
    return inspect_protocol(path).protocol


@dataclass(frozen=True)
class LoadedProtocol:
    """A checked protocol with its release status, content digest and drug-library warnings."""

    protocol: Protocol
    status: ReleaseStatus
    digest: str
    warnings: tuple[LibraryFinding, ...]


def inspect_protocol(path: Path | str | None = None) -> LoadedProtocol:
    """:func:`load_protocol` with what ``infusionist protocol validate`` reports."""
    protocol = read_protocol(path)
    status, digest = check_release(protocol, release_record())
    findings = check_protocol(protocol)
    return LoadedProtocol(protocol, status, digest, tuple(findings))


def read_protocol(path: Path | str | None = None) -> Protocol:
    """Parse and validate a protocol file without the release and drug-library checks.

    Only for ``infusionist protocol digest``, which must print the digest of a changed file so
    that a new version can be released; everything else uses :func:`load_protocol`.
    """
    file = Path(path) if path is not None else bundled_protocol_path(default_protocol_id())
    return _load(file, Protocol, ProtocolError, "PROTOCOL-INVALID", "protocol", limit=None)


@lru_cache(maxsize=1)
def release_record() -> ReleaseRecord:
    """The released protocol versions and their digests (``protocols/released.yaml``)."""
    file = Path(str(resources.files("infusionist.protocols").joinpath("released.yaml")))
    return _load(file, ReleaseRecord, ProtocolError, "PROTOCOL-INVALID", "release record")


def load_centre_config(path: Path | str | None) -> CentreConfig:
    """Load a centre configuration file; the protocol defaults when no file is given."""
    if path is None:
        return CentreConfig()
    return _load(Path(path), CentreConfig, ConfigError, "CONFIG-INVALID", "centre configuration")


def _load(
    file: Path,
    model: type[ModelT],
    error: type[ProtocolError] | type[ConfigError],
    code: str,
    what: str,
    limit: int | None = 5,
) -> ModelT:
    try:
        raw: Any = yaml.load(file.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)
    except FileNotFoundError:
        raise error(f"{code.split('-')[0]}-NOT-FOUND", f"The {what} file {file} does not exist.") from None
    except yaml.YAMLError as exc:
        raise error(code, f"The {what} file {file} is not valid YAML: {exc}") from None
    try:
        return model.model_validate(raw if raw is not None else {})
    except ValidationError as exc:
        raise error(code, f"The {what} file {file} is invalid: {_summarise(exc, limit)}") from None


def _summarise(exc: ValidationError, limit: int | None) -> str:
    parts = explain(exc)
    shown = parts if limit is None else parts[:limit]
    more = len(parts) - len(shown)
    return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")


# A problem a validator reports with its own place inside the model: "rate_steps[3].volume: ...".
_PLACE = re.compile(r"^([a-z_]+(?:\[\d+\])?(?:\.[a-z_]+(?:\[\d+\])?)*): (.*)$", re.S)


def explain(exc: ValidationError) -> list[str]:
    """Every mistake of a file, each with its place: ``infusion.rate_steps[3].volume: ...``."""
    out: list[str] = []
    for err in exc.errors():
        place = _place(err["loc"])
        message = str(err["msg"]).removeprefix("Value error, ")
        for part in message.split("; "):
            inner = _PLACE.match(part)
            if inner is not None:
                where = ".".join(p for p in (place, inner.group(1)) if p)
                out.append(f"{where}: {inner.group(2)}")
            else:
                out.append(f"{place or '(top level)'}: {part}")
    return out


def _place(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
