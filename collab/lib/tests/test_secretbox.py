import pytest

from collab.lib.secretbox import SecretBoxError, seal, unseal


def test_a_sealed_secret_opens_with_its_key_only() -> None:
    sealed = seal("SEC0123456789", key_material="key one")

    assert "SEC0123456789" not in sealed
    assert unseal(sealed, key_material="key one") == "SEC0123456789"
    with pytest.raises(SecretBoxError):
        unseal(sealed, key_material="key two")
    with pytest.raises(SecretBoxError):
        unseal(sealed[:-4] + "AAAA", key_material="key one")


def test_empty_stays_empty_and_plain_text_is_refused() -> None:
    assert seal("", key_material="k") == ""
    assert unseal("", key_material="k") == ""
    with pytest.raises(SecretBoxError):
        unseal("plain", key_material="k")
