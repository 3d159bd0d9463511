"""TLS over MLLP with client certificates (issue 14 item 1): with a client CA configured, only a
monitor presenting a certificate signed by it completes the handshake; its messages then meet
the allow-list as usual. A CA, the listener's and the monitors' certificates are made here with
the ``cryptography`` package; the client is the hl7 package's, its socket wrapped in TLS."""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path

import pytest
from api_support import engine_of
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hl7.client import MLLPClient
from hl7_support import Unit, ack_fields, listening, oru, register, unit_with_day_today

from infusionist.bootstrap import build
from infusionist.config import Settings
from infusionist.entrypoints.hl7.listener import tls_of
from infusionist.services.deps import Deps

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the transport only


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(subject: str, key: ec.EllipticCurvePrivateKey, issuer: str, issuer_key: ec.EllipticCurvePrivateKey,
                 *, ca: bool = False, server: bool = False) -> x509.Certificate:
    now = datetime.now(UTC)
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if server:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.IPAddress(IPv4Address("127.0.0.1"))]),
                                        critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _write(path: Path, certificate: x509.Certificate, key: ec.EllipticCurvePrivateKey | None = None) -> None:
    path.with_suffix(".crt").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    if key is not None:
        path.with_suffix(".key").write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ca.crt, listener.crt/key (127.0.0.1), monitor.crt/key (signed by the CA), rogue.crt/key
    (signed by another CA)."""
    folder = tmp_path_factory.mktemp("pki")
    ca_key, other_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    _write(folder / "ca", _certificate("Unit monitor CA", ca_key, "Unit monitor CA", ca_key, ca=True))
    for name, issuer, issuer_key, server in [("listener", "Unit monitor CA", ca_key, True),
                                             ("monitor", "Unit monitor CA", ca_key, False),
                                             ("rogue", "Some other CA", other_key, False)]:
        key = ec.generate_private_key(ec.SECP256R1())
        _write(folder / name, _certificate(name, key, issuer, issuer_key, server=server), key)
    return folder


@pytest.fixture
def deps(settings: Settings) -> Iterator[Deps]:
    built = build(settings)
    yield built
    engine_of(built).dispose()


@pytest.fixture
def unit(deps: Deps) -> Unit:
    register(deps)
    return unit_with_day_today(deps)


def tls_client(port: int, pki: Path, certificate: str | None) -> MLLPClient:
    """The hl7 package's client with its socket wrapped in TLS (checking the listener against the CA)."""
    context = ssl.create_default_context(cafile=str(pki / "ca.crt"))
    if certificate is not None:
        context.load_cert_chain(str(pki / f"{certificate}.crt"), str(pki / f"{certificate}.key"))
    client = MLLPClient("127.0.0.1", port)
    client.socket = context.wrap_socket(client.socket, server_hostname="127.0.0.1")
    return client


def refused_by_listener(port: int, pki: Path, certificate: str | None, message: str) -> bool:
    """True when the listener ends the TLS connection instead of answering (no or a foreign
    certificate: with TLS 1.3 the refusal arrives after the client's handshake, at the first read)."""
    try:
        with tls_client(port, pki, certificate) as client:
            return client.send_message(message) == b""
    except (ssl.SSLError, ConnectionError):
        return True


def test_with_a_client_ca_only_a_monitor_with_a_certificate_it_signed_is_heard(
        deps: Deps, unit: Unit, pki: Path) -> None:
    tls = tls_of(Settings(database_url="sqlite://", hl7_tls_certificate=pki / "listener.crt",
                          hl7_tls_key=pki / "listener.key", hl7_tls_client_ca=pki / "ca.crt"))
    assert tls is not None and tls.verify_mode is ssl.CERT_REQUIRED
    with listening(deps, tls=tls) as port:
        with tls_client(port, pki, "monitor") as client:
            ack = ack_fields(client.send_message(oru("TLS-1", unit.pseudonym)))
        assert ack["code"] == "AA"
        assert refused_by_listener(port, pki, None, oru("TLS-2", unit.pseudonym))
        assert refused_by_listener(port, pki, "rogue", oru("TLS-3", unit.pseudonym))
        # plain MLLP to a TLS listener: nothing heard
        with MLLPClient("127.0.0.1", port) as plain, contextlib.suppress(ConnectionError):
            assert plain.send_message(oru("TLS-4", unit.pseudonym)) == b""
        with tls_client(port, pki, "monitor") as client:  # the allow-list still applies inside TLS
            unknown = ack_fields(client.send_message(oru("TLS-5", unit.pseudonym, sender="ROGUE")))
        assert unknown["code"] == "AR" and unknown["err"] is not None
        assert unknown["err"][5] == "HL7-UNKNOWN-SENDER"
    with deps.uow() as uow:
        assert uow.inbound.count() == 1 and len(uow.inbound.refused()) == 1


def test_without_tls_settings_the_listener_speaks_plain_mllp(database_url: str) -> None:
    assert tls_of(Settings(database_url="sqlite://")) is None
