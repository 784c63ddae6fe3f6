"""A private CA and a server certificate for the Kubernetes API double.

EKS hands out a cluster CA in DescribeCluster (`certificateAuthority.data`, base64 of a PEM) and
clients pin it. We do the same: one CA per cluster, one server certificate for 127.0.0.1 and
localhost, both kept in memory and written to a temporary directory only because `ssl` wants
files. ECDSA P-256 keeps generation fast (a cluster per test) and is accepted by Go (kubectl),
rustls and OpenSSL alike.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import os
import tempfile
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class ServerCerts:
    ca_pem: bytes
    cert_pem: bytes
    key_pem: bytes

    @property
    def ca_data(self) -> str:
        """base64 of the CA PEM, the form of EKS `certificateAuthority.data`."""
        return base64.b64encode(self.ca_pem).decode("ascii")

    def write(self, directory: str | None = None) -> tuple[str, str, str]:
        """Write ca.crt, server.crt (chain) and server.key; return their paths."""
        directory = directory or tempfile.mkdtemp(prefix="localcloud-kube-")
        paths = []
        for name, data in (
            ("ca.crt", self.ca_pem),
            ("server.crt", self.cert_pem + self.ca_pem),
            ("server.key", self.key_pem),
        ):
            path = os.path.join(directory, name)
            with open(path, "wb") as f:
                f.write(data)
            os.chmod(path, 0o600)
            paths.append(path)
        return paths[0], paths[1], paths[2]


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def generate(days: int = 365) -> ServerCerts:
    """A CA named like the EKS one ("kubernetes") and a server cert for 127.0.0.1 / localhost."""
    start = _now() - datetime.timedelta(minutes=5)
    end = start + datetime.timedelta(days=days)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubernetes")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_encipherment=False,
                key_cert_sign=False,
                crl_sign=False,
                content_commitment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    x509.DNSName("localhost"),
                    x509.DNSName("kubernetes"),
                    x509.DNSName("kubernetes.default.svc"),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )

    pem = serialization.Encoding.PEM
    return ServerCerts(
        ca_pem=ca_cert.public_bytes(pem),
        cert_pem=cert.public_bytes(pem),
        key_pem=key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
    )
