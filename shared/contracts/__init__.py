"""The contracts between the parts: one package per service, one layout for all.

    shared/contracts/<service>/rpc.py      its RPC methods (names, params and result models)
    shared/contracts/<service>/events.py   the events it publishes, with their payload models
    shared/contracts/<service>/*.py        the vocabulary that crosses its boundary (roles,
                                           states, actions, work lists, material sections,
                                           document kinds…), used by it and by its callers
    shared/contracts/external.py           the events outside systems publish to us
    shared/contracts/registry.py           every event and every RPC queue, for the AsyncAPI
                                           document (shared/asyncapi.py) and the tests

A service validates with these models and its callers send with them: one definition each.
A service's domain imports its vocabulary from here. Everything here is pure (pydantic and
the standard library): no I/O, nothing of any service, so the gateway, the tools and every
service can depend on it (the import rules in pyproject.toml, checked by
tests/unit/test_import_rules.py).
"""
