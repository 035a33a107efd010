"""The channel tests' fixtures (tests/webhook_receiver.py): `receiver`, a local endpoint;
`guard`, connections only to this machine; `resolver`, names resolved only where a test
says, never through DNS."""

from tests.webhook_receiver import guard, receiver, resolver

__all__ = ["guard", "receiver", "resolver"]
