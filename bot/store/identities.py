"""Channel identifiers (phone numbers, chat ids): the only place they are stored.

They are encrypted with a key from configuration (`DATA_ENCRYPTION_KEY`, a Fernet key) and
found again through a keyed hash, so the table can be searched without decrypting it.

Rotation: `DATA_ENCRYPTION_KEY` may list several keys separated by commas, the new one first.
New values are encrypted (and hashed) with the first; values under an older key are still
read (`MultiFernet`) and found (every key's hash is looked up) until
`python -m bot.store rotate-key` has re-encrypted them (`rotate_all`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.store.models import ChannelIdentity, Contact, FollowUpRequest

log = logging.getLogger(__name__)


def split_keys(key: str | bytes | SecretStr) -> list[str]:
    if isinstance(key, SecretStr):  # the settings' data_key
        key = key.get_secret_value()
    text = key.decode() if isinstance(key, bytes) else key
    keys = [part.strip() for part in text.split(",") if part.strip()]
    if not keys:
        raise ValueError("DATA_ENCRYPTION_KEY is empty")
    return keys


class IdentityVault:
    def __init__(self, key: str | bytes | SecretStr):
        keys = split_keys(key)
        self._fernet = MultiFernet([Fernet(k.encode()) for k in keys])
        self._hash_keys = [hashlib.sha256(b"address-hash:" + k.encode()).digest() for k in keys]

    def hash(self, channel: str, address: str) -> str:
        """The address's hash under the current (first) key."""
        return self._hash_with(self._hash_keys[0], channel, address)

    def hashes(self, channel: str, address: str) -> list[str]:
        """The address's hash under every configured key (current first)."""
        return [self._hash_with(k, channel, address) for k in self._hash_keys]

    @staticmethod
    def _hash_with(hash_key: bytes, channel: str, address: str) -> str:
        return hmac.new(hash_key, f"{channel}:{address}".encode(), hashlib.sha256).hexdigest()

    def encrypt(self, address: str) -> str:
        return self._fernet.encrypt(address.encode()).decode()

    def decrypt(self, token: str) -> str:
        return self._fernet.decrypt(token.encode()).decode()

    def rotate(self, token: str) -> str:
        """The same value encrypted under the current key."""
        return self._fernet.rotate(token.encode()).decode()

    def find_contact_id(self, session: Session, channel: str, address: str) -> str | None:
        hashes = self.hashes(channel, address)
        condition = (ChannelIdentity.address_hash == hashes[0] if len(hashes) == 1
                     else ChannelIdentity.address_hash.in_(hashes))
        return session.scalar(
            select(ChannelIdentity.contact_id).where(ChannelIdentity.channel == channel,
                                                     condition).limit(1)
        )

    def find_or_create_contact(self, session: Session, channel: str, address: str) -> Contact:
        contact_id = self.find_contact_id(session, channel, address)
        if contact_id is not None:
            return session.get_one(Contact, contact_id)
        digest = self.hash(channel, address)
        contact = Contact()
        session.add(contact)
        session.flush()
        session.add(
            ChannelIdentity(
                contact_id=contact.id,
                channel=channel,
                address_hash=digest,
                address_encrypted=self.encrypt(address),
            )
        )
        session.flush()
        return contact

    def address_of(self, session: Session, contact_id: str, channel: str) -> str | None:
        identity = session.scalar(
            select(ChannelIdentity).where(
                ChannelIdentity.contact_id == contact_id, ChannelIdentity.channel == channel
            )
        )
        return self.decrypt(identity.address_encrypted) if identity else None


@dataclass
class RotationReport:
    reencrypted: int = 0
    unreadable: int = 0


def rotate_all(session: Session, vault: IdentityVault, batch: int = 500) -> RotationReport:
    """Re-encrypt every stored identifier and call-back number under the current key, and
    re-hash the identities with it. Values no configured key can read are counted, left as
    they are, and never logged."""
    report = RotationReport()

    def rotate(value: str | None) -> str | None:
        if value is None:
            return None
        try:
            rotated = vault.rotate(value)
        except InvalidToken:
            report.unreadable += 1
            return value
        report.reencrypted += 1
        return rotated

    for identity in session.scalars(select(ChannelIdentity).order_by(ChannelIdentity.id)
                                    .execution_options(yield_per=batch)):
        try:
            address = vault.decrypt(identity.address_encrypted)
        except InvalidToken:
            report.unreadable += 1
            continue
        identity.address_encrypted = vault.encrypt(address)
        identity.address_hash = vault.hash(identity.channel, address)
        report.reencrypted += 1
    for request in session.scalars(select(FollowUpRequest).where(
            FollowUpRequest.callback_contact_encrypted.is_not(None))):
        request.callback_contact_encrypted = rotate(request.callback_contact_encrypted)
    for contact in session.scalars(select(Contact).where(Contact.callback_draft.is_not(None))):
        contact.callback_draft = rotate(contact.callback_draft)
    session.flush()
    return report
