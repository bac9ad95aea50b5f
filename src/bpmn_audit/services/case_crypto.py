"""The case register's key: encrypting children's identifying data at rest, and refusing to run without a key.

The key is ``BPMN_AUDIT_CASE_KEY`` (setting ``CASE_KEY``): one urlsafe base64 Fernet key, or several
separated by commas to rotate keys. The first key encrypts; every key is tried when decrypting, so data
written under an old key stays readable while the old key is listed after the new one.
No message here ever contains a key.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from .errors import ServiceError

KEY_VARIABLE = "BPMN_AUDIT_CASE_KEY"
MAKE_A_KEY = 'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'


class CaseKeyError(ServiceError):
    """The case key is missing or wrong: a fault of the installation, not of the user's request."""

    status = 500


def require_case_key(config: Mapping[str, Any]) -> MultiFernet:
    """The cipher for the register, from ``config["CASE_KEY"]``; raises CaseKeyError if there is no usable key.

    ``serve`` and ``worker`` call this before they start; the case services call it at their edge.
    """
    text = config.get("CASE_KEY") or ""
    keys = [part.strip() for part in text.split(",") if part.strip()]
    if not keys:
        raise CaseKeyError(f"{KEY_VARIABLE} is not set: the case register encrypts children's identifying data "
                           f"with it. Make a key with: {MAKE_A_KEY} and set {KEY_VARIABLE} to it "
                           f"(to rotate keys, give the new key first: NEW,OLD)")
    ciphers = []
    for number, key in enumerate(keys, start=1):
        try:
            ciphers.append(Fernet(key))
        except (ValueError, TypeError):
            raise CaseKeyError(f"{KEY_VARIABLE} holds something that is not a Fernet key (key {number} of "
                               f"{len(keys)}). Make a key with: {MAKE_A_KEY}") from None
    return MultiFernet(ciphers)


def throwaway_key() -> str:
    """A fresh key, for tests, ``demo`` and ``simulate``: what it encrypts is lost with it."""
    return Fernet.generate_key().decode()


def seal(cipher: MultiFernet, data: dict[str, Any]) -> bytes:
    """``data`` as JSON, encrypted under the first key."""
    return cipher.encrypt(json.dumps(data, separators=(",", ":")).encode())


def unseal(cipher: MultiFernet, token: bytes) -> dict[str, Any]:
    """What ``seal`` encrypted; raises CaseKeyError if none of the keys can decrypt it."""
    try:
        return json.loads(cipher.decrypt(token))
    except InvalidToken:
        raise CaseKeyError(f"the case's data cannot be decrypted with the keys in {KEY_VARIABLE}: was the key "
                           "that encrypted it removed? Keep each old key after the new one for as long as data "
                           "encrypted under it is kept") from None
