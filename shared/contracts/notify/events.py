"""The notify service publishes no events (its SMS go to the providers: provider.py)."""

EVENTS = ()
