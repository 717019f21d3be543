"""Contracts and plumbing shared by every service and the gateway."""
