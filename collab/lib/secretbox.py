"""Credentials kept encrypted at rest: Fernet (AES-128-CBC + HMAC-SHA256) with a key derived from a secret.

Framework-free: the caller passes the key material (the project's ``SECRET_KEY`` or a dedicated
``COLLAB_ENCRYPTION_KEY``). The key is derived with HKDF, so the raw secret is never the cipher
key and rotating ``SECRET_KEY`` without re-encrypting makes ``unseal`` fail loudly, not silently.

Key rotation: ``unseal`` also tries the ``fallbacks`` (the previous key materials), and
``reseal`` re-encrypts a value with the current key (Fernet's MultiFernet): set the new key,
list the old one as a fallback, reseal every stored value, then drop the fallback.
"""

import base64
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# Sealed values start with this prefix, so a column can tell a sealed value from legacy plain text.
PREFIX = "fernet:"


class SecretBoxError(Exception):
    """A sealed value could not be opened: wrong key (rotated secret) or tampered text."""


def _fernet(key_material: str) -> Fernet:
    if not key_material:
        raise SecretBoxError("No key material to derive the encryption key from.")
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"collab-secretbox-v1").derive(
        key_material.encode()
    )
    return Fernet(base64.urlsafe_b64encode(derived))


def seal(plain: str, *, key_material: str) -> str:
    """Encrypts ``plain``; an empty value stays empty (nothing to hide, and "not set" stays visible)."""
    if not plain:
        return ""
    return PREFIX + _fernet(key_material).encrypt(plain.encode()).decode()


def _multi(key_material: str, fallbacks: Sequence[str]) -> MultiFernet:
    return MultiFernet([_fernet(key_material), *(_fernet(old) for old in fallbacks if old)])


def unseal(sealed: str, *, key_material: str, fallbacks: Sequence[str] = ()) -> str:
    if not sealed:
        return ""
    if not sealed.startswith(PREFIX):
        raise SecretBoxError("The value is not sealed.")
    try:
        return _multi(key_material, fallbacks).decrypt(sealed[len(PREFIX) :].encode()).decode()
    except InvalidToken as error:
        raise SecretBoxError("The value cannot be opened with this key.") from error


def reseal(sealed: str, *, key_material: str, fallbacks: Sequence[str] = ()) -> str:
    """``sealed`` encrypted again with ``key_material`` (opened with it or a fallback)."""
    if not sealed:
        return ""
    if not sealed.startswith(PREFIX):
        raise SecretBoxError("The value is not sealed.")
    try:
        token = _multi(key_material, fallbacks).rotate(sealed[len(PREFIX) :].encode())
    except InvalidToken as error:
        raise SecretBoxError("The value cannot be opened with this key.") from error
    return PREFIX + token.decode()
