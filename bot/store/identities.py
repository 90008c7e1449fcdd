"""Channel identifiers (phone numbers, chat ids): the only place they are stored.

They are encrypted with a key from configuration (`DATA_ENCRYPTION_KEY`, a Fernet key) and
found again through a keyed hash, so the table can be searched without decrypting it.
"""

from __future__ import annotations

import hashlib
import hmac

from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.store.models import ChannelIdentity, Contact


class IdentityVault:
    def __init__(self, key: str):
        self._fernet = Fernet(key.encode() if isinstance(key, str) else key)
        self._hash_key = hashlib.sha256(b"address-hash:" + key.encode()).digest()

    def hash(self, channel: str, address: str) -> str:
        return hmac.new(self._hash_key, f"{channel}:{address}".encode(), hashlib.sha256).hexdigest()

    def encrypt(self, address: str) -> str:
        return self._fernet.encrypt(address.encode()).decode()

    def decrypt(self, token: str) -> str:
        return self._fernet.decrypt(token.encode()).decode()

    def find_contact_id(self, session: Session, channel: str, address: str) -> str | None:
        return session.scalar(
            select(ChannelIdentity.contact_id).where(
                ChannelIdentity.channel == channel,
                ChannelIdentity.address_hash == self.hash(channel, address),
            )
        )

    def find_or_create_contact(self, session: Session, channel: str, address: str) -> Contact:
        contact_id = self.find_contact_id(session, channel, address)
        if contact_id is not None:
            return session.get(Contact, contact_id)
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
