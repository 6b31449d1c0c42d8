"""Generate a self-signed TLS certificate for nginx when none exists.

`python -m infra.make_cert DIR [HOSTNAME ...]` writes DIR/server.crt and
DIR/server.key (mode 0600) unless both are already there, so restarts keep the
certificate that a browser already trusts. The local stack and the compose
one-shot job both run it.
"""

from __future__ import annotations

import argparse
import datetime
import ipaddress
import logging
import os
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

log = logging.getLogger("infra.make_cert")

VALIDITY_DAYS = 825  # about 27 months: long enough that a development certificate rarely expires


def make_certificate(directory: Path, hostnames: list[str]) -> bool:
    """Write a certificate and key for `hostnames`; return False when both already exist."""
    cert_path, key_path = directory / "server.crt", directory / "server.key"
    if cert_path.exists() and key_path.exists():
        return False
    directory.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostnames[0])])
    now = datetime.datetime.now(datetime.UTC)
    alternative_names = [x509.DNSName(host) for host in hostnames]
    alternative_names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ("127.0.0.1", "::1")]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALIDITY_DAYS))
        .add_extension(x509.SubjectAlternativeName(alternative_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_bytes = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption())
    descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as key_file:
        key_file.write(key_bytes)
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description="Generate a self-signed TLS certificate if none exists.")
    parser.add_argument("directory", type=Path, help="folder for server.crt and server.key")
    parser.add_argument("hostnames", nargs="*", default=["localhost"], help="DNS names (default: localhost)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if make_certificate(args.directory, args.hostnames):
        log.info("generated a self-signed certificate for %s in %s", ", ".join(args.hostnames), args.directory)
    else:
        log.info("keeping the existing certificate in %s", args.directory)
    return 0


if __name__ == "__main__":
    sys.exit(main())
