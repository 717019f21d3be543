"""The cases service's contract: the case workflow's vocabulary, the applicant's materials,
the work lists, the RPC methods and the events."""
