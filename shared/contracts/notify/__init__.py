"""The notify service's contract: SMS codes on request, the SMS page's figures, and the
messages it exchanges with SMS provider adapters."""
