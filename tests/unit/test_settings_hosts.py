"""The settings' default ConnectWise hosts and the client's are the same list."""

from msphub_psa.connectwise.urls import DEFAULT_ALLOWED_HOSTS
from msphub_psa.settings import CONNECTWISE_CLOUD_HOSTS


def test_the_default_hosts_are_the_clients():
    assert CONNECTWISE_CLOUD_HOSTS == DEFAULT_ALLOWED_HOSTS
