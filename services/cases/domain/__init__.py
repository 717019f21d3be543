"""The cases service's domain: the case state machine and the working-day calendar. No I/O."""
