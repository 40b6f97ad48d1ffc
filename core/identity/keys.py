"""Signing keys for capability tokens: one active Ed25519 key, older ones kept to verify."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from core.errors import ConfigError

if TYPE_CHECKING:
    from core.settings import IdentitySettings

ALGORITHM = "EdDSA"


def _new_kid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@dataclass(frozen=True)
class KeyRing:
    """The key that signs new tokens, by key id, and the public keys that still verify.

    Rotation: :meth:`rotate` makes a new active key and keeps the previous public key, so
    tokens minted just before the rotation still verify until they expire. A ring never
    shares private keys: the executor side can be given :meth:`verifying` only.
    """

    kid: str
    private_key: Ed25519PrivateKey | None
    public_keys: Mapping[str, Ed25519PublicKey] = field(default_factory=dict)
    generated: bool = False
    """True when the key was generated in this process (local use): tokens do not survive a
    restart, which is fine because they live for seconds."""

    @classmethod
    def generate(cls, *, kid: str | None = None) -> KeyRing:
        key = Ed25519PrivateKey.generate()
        kid = kid or _new_kid("local")
        return cls(kid=kid, private_key=key, public_keys={kid: key.public_key()}, generated=True)

    @classmethod
    def from_pem(
        cls, private_pem: str | bytes, *, kid: str, previous: Mapping[str, str] | None = None
    ) -> KeyRing:
        """A ring from a PEM private key (PKCS#8 Ed25519) and older public keys by kid."""
        data = private_pem.encode() if isinstance(private_pem, str) else private_pem
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except ValueError as exc:
            raise ConfigError(f"capability signing key {kid!r} is not a PEM private key") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise ConfigError(f"capability signing key {kid!r} must be an Ed25519 key")
        publics: dict[str, Ed25519PublicKey] = {}
        for old_kid, pem in (previous or {}).items():
            public = serialization.load_pem_public_key(pem.encode())
            if not isinstance(public, Ed25519PublicKey):
                raise ConfigError(f"capability verification key {old_kid!r} must be Ed25519")
            publics[old_kid] = public
        publics[kid] = key.public_key()
        return cls(kid=kid, private_key=key, public_keys=publics)

    @classmethod
    def from_settings(cls, settings: IdentitySettings) -> KeyRing:
        """The ring of ``PADDOCK_CAPABILITY_KEY`` / ``_KEY_ID``, plus the public keys of
        ``PADDOCK_CAPABILITY_PREVIOUS_KEYS``; generated when no key is set."""
        if not settings.capability_key:
            return cls.generate()
        if not settings.capability_key_id:
            raise ConfigError("PADDOCK_CAPABILITY_KEY needs PADDOCK_CAPABILITY_KEY_ID")
        return cls.from_pem(
            settings.capability_key,
            kid=settings.capability_key_id,
            previous=settings.capability_previous_keys,
        )

    def rotate(self, *, kid: str | None = None, keep: int = 2) -> KeyRing:
        """A ring with a new active key; the ``keep`` newest older public keys still verify."""
        fresh = Ed25519PrivateKey.generate()
        kid = kid or _new_kid("key")
        older = list(self.public_keys.items())[-keep:] if keep > 0 else []
        return KeyRing(
            kid=kid,
            private_key=fresh,
            public_keys={**dict(older), kid: fresh.public_key()},
            generated=self.generated,
        )

    def verifying(self) -> KeyRing:
        """The same ring without the private key (for a process that only verifies)."""
        return KeyRing(
            kid=self.kid,
            private_key=None,
            public_keys=dict(self.public_keys),
            generated=self.generated,
        )

    def public_key(self, kid: str) -> Ed25519PublicKey | None:
        return self.public_keys.get(kid)

    def signing_key(self) -> Ed25519PrivateKey:
        if self.private_key is None:
            raise ConfigError("this key ring can only verify capability tokens")
        return self.private_key

    def private_pem(self) -> str:
        """The active private key as PKCS#8 PEM (to hand to configuration)."""
        return (
            self.signing_key()
            .private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            .decode()
        )
