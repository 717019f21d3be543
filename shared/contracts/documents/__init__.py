"""The documents service's contract: the documents it prints (their kinds, which cases have
them, the snapshots they are printed from), stored scans, print jobs, and its event."""
