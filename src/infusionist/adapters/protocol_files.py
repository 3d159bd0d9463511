"""Reading protocol and centre-configuration YAML files into validated domain models."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from infusionist.domain.centre import CentreConfig
from infusionist.domain.errors import ConfigError, ProtocolError
from infusionist.domain.protocol import Protocol

ModelT = TypeVar("ModelT", bound=BaseModel)
# libyaml's safe loader is about 8x faster than the pure-Python one; both are safe loaders.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def bundled_protocol_path(protocol_id: str) -> Path:
    return Path(str(resources.files("infusionist.protocols").joinpath(f"{protocol_id}.yaml")))


def load_protocol(path: Path | str | None = None) -> Protocol:
    """Load and validate a protocol file; the bundled alemtuzumab protocol by default."""
    from infusionist.protocols import DEFAULT_PROTOCOL

    file = Path(path) if path is not None else bundled_protocol_path(DEFAULT_PROTOCOL)
    return _load(file, Protocol, ProtocolError, "PROTOCOL-INVALID", "protocol")


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
        raise error(code, f"The {what} file {file} is invalid: {_summarise(exc)}") from None


def _summarise(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        location = ".".join(str(p) for p in err["loc"]) or "(top level)"
        parts.append(f"{location}: {err['msg']}")
    more = exc.error_count() - len(parts)
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")
