"""bot/store/identities.py: channel identifiers, encrypted and found again by a keyed hash."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import func, select

from bot.store.identities import IdentityVault, split_keys
from bot.store.models import ChannelIdentity, Contact

KEY = Fernet.generate_key().decode()
NUMBER = "+22376123456"


@pytest.fixture
def vault() -> IdentityVault:
    return IdentityVault(KEY)


def test_split_keys_keeps_the_order_and_drops_blanks():
    assert split_keys(" a , b,,c ") == ["a", "b", "c"]
    assert split_keys(b"a") == ["a"]
    with pytest.raises(ValueError, match="empty"):
        split_keys(" , ")


def test_the_hash_depends_on_the_channel_the_address_and_the_key(vault):
    digest = vault.hash("whatsapp", NUMBER)
    assert len(digest) == 64 and NUMBER.lstrip("+") not in digest
    assert vault.hash("whatsapp", NUMBER) == digest  # stable: the table can be searched
    assert vault.hash("telegram", NUMBER) != digest
    assert vault.hash("whatsapp", "+22376123457") != digest
    assert IdentityVault(Fernet.generate_key()).hash("whatsapp", NUMBER) != digest


def test_hashes_lists_the_current_key_first():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    rotated = IdentityVault(f"{new},{old}")
    assert rotated.hashes("web", NUMBER) == [IdentityVault(new).hash("web", NUMBER),
                                             IdentityVault(old).hash("web", NUMBER)]


def test_encryption_round_trip_and_a_foreign_key_cannot_read(vault):
    token = vault.encrypt(NUMBER)
    assert NUMBER not in token
    assert vault.decrypt(token) == NUMBER
    with pytest.raises(InvalidToken):
        IdentityVault(Fernet.generate_key()).decrypt(token)


def test_rotate_reencrypts_under_the_current_key():
    old = Fernet.generate_key().decode()
    token = IdentityVault(old).encrypt(NUMBER)
    new = Fernet.generate_key().decode()
    rotated = IdentityVault(f"{new},{old}").rotate(token)
    assert IdentityVault(new).decrypt(rotated) == NUMBER


def test_one_contact_per_channel_address(db, vault):
    with db.session() as session:
        first = vault.find_or_create_contact(session, "whatsapp", NUMBER)
        again = vault.find_or_create_contact(session, "whatsapp", NUMBER)
        other = vault.find_or_create_contact(session, "telegram", NUMBER)
        assert again.id == first.id and other.id != first.id
        assert vault.find_contact_id(session, "whatsapp", NUMBER) == first.id
        assert vault.find_contact_id(session, "whatsapp", "+22300000000") is None
        assert session.scalar(select(func.count()).select_from(Contact)) == 2
        [identity] = session.scalars(select(ChannelIdentity).where(
            ChannelIdentity.contact_id == first.id)).all()
        # Stored only encrypted and hashed: the number itself is nowhere in the row.
        assert NUMBER not in identity.address_encrypted and NUMBER not in identity.address_hash
        assert identity.address_hash == vault.hash("whatsapp", NUMBER)
        assert vault.address_of(session, first.id, "whatsapp") == NUMBER
        assert vault.address_of(session, first.id, "telegram") is None


def test_a_contact_is_found_under_an_older_key(db):
    old = Fernet.generate_key().decode()
    with db.session() as session:
        contact_id = IdentityVault(old).find_or_create_contact(session, "web", "abc").id
    rotated = IdentityVault(f"{Fernet.generate_key().decode()},{old}")
    with db.session() as session:
        assert rotated.find_contact_id(session, "web", "abc") == contact_id
        assert rotated.find_or_create_contact(session, "web", "abc").id == contact_id
