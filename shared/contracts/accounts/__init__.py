"""The accounts service's contract: units, users, sessions, SMS codes, captchas."""
