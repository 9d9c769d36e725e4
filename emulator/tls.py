"""TLS for ``python -m emulator --tls``: a self-signed certificate made at start, or one given.

The generated certificate names ``localhost``, ``127.0.0.1``, ``::1`` and ``www.tiktok.com``, so a
client that maps ``www.tiktok.com`` to the emulator (Chromium's ``--host-resolver-rules``) verifies it
once it trusts the PEM file. Both kinds load through ``server_options``, which reads PEM files; a
file that is missing or not a certificate/key is a ``TlsError`` carrying one line for the CLI.
"""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from OpenSSL import crypto
from twisted.internet import ssl

#: what the generated certificate is valid for
DNS_NAMES = ("localhost", "www.tiktok.com")
IP_ADDRESSES = ("127.0.0.1", "::1")
#: a generous lifetime: the certificate lives only as long as the process anyway
VALIDITY = datetime.timedelta(days=30)


class TlsError(Exception):
    """A certificate or key that cannot be used; the message is one line."""


def write_self_signed(directory: Path) -> tuple[Path, Path]:
    """A fresh P-256 key and a self-signed server certificate for ``DNS_NAMES`` and
    ``IP_ADDRESSES``, written as ``cert.pem`` and ``key.pem`` in ``directory``."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "emulator www.tiktok.com")])
    # Backdated a little so a client whose clock is slightly behind still accepts it.
    now = datetime.datetime.now(datetime.UTC)
    names: list[x509.GeneralName] = [x509.DNSName(each) for each in DNS_NAMES]
    names += [x509.IPAddress(ipaddress.ip_address(each)) for each in IP_ADDRESSES]
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.touch(mode=0o600)
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise TlsError(f"cannot read {what} {path}: {(error.strerror or str(error)).lower()}") from error


def server_options(cert_path: Path, key_path: Path) -> ssl.CertificateOptions:
    """Twisted's TLS options serving the PEM certificate and key at these paths (HTTP/1.1 only:
    no ALPN is offered, so every route keeps the HTTP/1.1 behaviour it was written for)."""
    try:
        cert = x509.load_pem_x509_certificate(_read(cert_path, "certificate"))
    except ValueError as error:
        raise TlsError(f"cannot load certificate {cert_path}: not a PEM certificate") from error
    try:
        key = serialization.load_pem_private_key(_read(key_path, "key"), password=None)
    except (ValueError, TypeError) as error:  # TypeError: the key needs a password
        raise TlsError(f"cannot load key {key_path}: not an unencrypted PEM private key") from error
    if cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) != key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ):
        raise TlsError(f"key {key_path} does not match certificate {cert_path}")
    return ssl.CertificateOptions(
        privateKey=crypto.PKey.from_cryptography_key(key),  # type: ignore[arg-type]
        certificate=crypto.X509.from_cryptography(cert),
    )
