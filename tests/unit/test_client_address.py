"""Which address is the client's, with and without trusted reverse proxies in front."""

import pytest

from gateway.client_address import client_address, trusted_networks

PROXIES = trusted_networks("127.0.0.1, 10.0.0.0/8")


def test_without_trusted_proxies_the_header_is_ignored():
    assert client_address("203.0.113.9", "1.2.3.4", ()) == "203.0.113.9"


def test_a_header_from_an_untrusted_peer_is_ignored():
    assert client_address("203.0.113.9", "1.2.3.4", PROXIES) == "203.0.113.9"


def test_behind_one_proxy_the_forwarded_address_is_the_client():
    assert client_address("127.0.0.1", "198.51.100.7", PROXIES) == "198.51.100.7"


def test_addresses_a_client_wrote_before_our_proxies_are_not_believed():
    forwarded = "1.1.1.1, 198.51.100.7, 10.0.0.5"  # spoofed, the client, our inner proxy
    assert client_address("127.0.0.1", forwarded, PROXIES) == "198.51.100.7"


def test_a_garbled_hop_falls_back_to_the_peer():
    assert client_address("127.0.0.1", "unknown", PROXIES) == "127.0.0.1"


def test_only_proxies_in_the_chain_gives_the_first_of_them():
    assert client_address("127.0.0.1", "10.0.0.9, 10.0.0.5", PROXIES) == "10.0.0.9"


def test_an_empty_header_keeps_the_peer():
    assert client_address("127.0.0.1", "", PROXIES) == "127.0.0.1"


def test_a_mistyped_setting_is_an_error():
    with pytest.raises(ValueError):
        trusted_networks("10.0.0.0/33")
