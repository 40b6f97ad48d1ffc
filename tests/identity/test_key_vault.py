"""Key Vault: the real ``SecretClient`` (over TLS, with its bearer challenge) against a local
stand-in on 127.0.0.1 that accepts only tokens for the vault audience from the local issuer."""

from __future__ import annotations

import datetime as dt
import ipaddress
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from core.execution.base import CallContext
from core.execution.http import HttpExecutor
from core.identity import CredentialError, IdentityAuthorizer, KeyVaultSecrets
from paddock.local.identity import LocalEntraCredential
from paddock.local.issuer import LocalIssuer
from paddock.local.servers import free_port
from paddock.local.verify import api_key_verifier, check_jwt
from tests.identity.backend import GuardedBackend
from tests.identity.test_secrets import API_KEY, _tool

VAULT_AUDIENCE = "https://vault.azure.net"


def _certificate(folder: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "vault.pem", folder / "vault.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class LocalVault:
    """GET /secrets/{name}/ with Key Vault's 401 challenge, then the secret for a valid token."""

    def __init__(self, issuer: LocalIssuer, secrets: dict[str, str]) -> None:
        self.issuer = issuer
        self.secrets = secrets
        self.refusals: list[str] = []
        self.app = Starlette(routes=[Route("/secrets/{name}/{version:path}", self._get)])

    async def _get(self, request: Request) -> JSONResponse:
        header = request.headers.get("authorization", "")
        if not header.startswith("Bearer "):
            challenge = (
                f'Bearer authorization="https://login.microsoftonline.com/tenant-1", '
                f'resource="{VAULT_AUDIENCE}"'
            )
            return JSONResponse(
                {"error": {"code": "Unauthorized"}},
                status_code=401,
                headers={"WWW-Authenticate": challenge},
            )
        reason = check_jwt(
            header[7:], self.issuer.jwks(), issuer=self.issuer.issuer, audience=VAULT_AUDIENCE
        )
        if reason is not None:
            self.refusals.append(reason)
            return JSONResponse(
                {"error": {"code": "Forbidden", "message": reason}}, status_code=403
            )
        name = request.path_params["name"]
        if name not in self.secrets:
            return JSONResponse(
                {"error": {"code": "SecretNotFound", "message": name}}, status_code=404
            )
        base = f"https://127.0.0.1:{request.url.port}"
        return JSONResponse(
            {
                "value": self.secrets[name],
                "id": f"{base}/secrets/{name}/v1",
                "attributes": {"enabled": True},
            }
        )


@pytest.fixture()
def vault(tmp_path: Path) -> Iterator[tuple[str, Path, LocalVault, LocalIssuer]]:
    issuer = LocalIssuer()
    local_vault = LocalVault(issuer, {"paddock-supplier-risk-api-apikey": "kv-key-1"})
    cert, key = _certificate(tmp_path)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            local_vault.app,
            host="127.0.0.1",
            port=port,
            ssl_certfile=str(cert),
            ssl_keyfile=str(key),
            log_level="error",
            lifespan="off",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    yield f"https://127.0.0.1:{port}", cert, local_vault, issuer
    server.should_exit = True
    thread.join(timeout=5)


def _client(url: str, cert: Path, credential: object) -> object:
    from azure.keyvault.secrets import SecretClient

    return SecretClient(
        url,
        credential,
        connection_verify=str(cert),  # type: ignore[arg-type]
        verify_challenge_resource=False,
    )


def test_api_key_from_key_vault(
    vault: tuple[str, Path, LocalVault, LocalIssuer], backend: GuardedBackend
) -> None:
    url, cert, local_vault, issuer = vault
    credential = LocalEntraCredential(issuer)
    provider = KeyVaultSecrets(_client(url, cert, credential))  # type: ignore[arg-type]
    backend.check = api_key_verifier(lambda: "kv-key-1", header="X-Api-Key")
    with HttpExecutor(authorizer=IdentityAuthorizer(secrets=provider)) as executor:
        result = executor.execute(
            _tool(backend.url, API_KEY),
            {"item_id": "A"},
            CallContext(run_id="r", step_index=0, call_index=0),
        )
    assert result.status_code == 200
    assert credential.issued == [VAULT_AUDIENCE]  # a token for the vault only
    assert local_vault.refusals == []


def test_missing_secret_and_wrong_identity_are_credential_errors(
    vault: tuple[str, Path, LocalVault, LocalIssuer],
) -> None:
    url, cert, local_vault, issuer = vault
    provider = KeyVaultSecrets(_client(url, cert, LocalEntraCredential(issuer)))  # type: ignore[arg-type]
    with pytest.raises(CredentialError, match="unavailable from Key Vault"):
        provider.get_secret("paddock/other-api/apikey")
    stranger = LocalEntraCredential(LocalIssuer(issuer=issuer.issuer))  # another key
    refused = KeyVaultSecrets(_client(url, cert, stranger))  # type: ignore[arg-type]
    with pytest.raises(CredentialError, match="unavailable from Key Vault"):
        refused.get_secret("paddock/supplier-risk-api/apikey")
    assert local_vault.refusals == ["token signed by an unknown key"]
