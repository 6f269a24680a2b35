"""A drill: assembled once (:mod:`.assemble`, the one composition root), then played
(:mod:`.play`: the conductor on its thread, signals, the start gate) and reported
(:mod:`.reports`). The conductor, its fault book, ledger, schedule, injectors, probe loop,
targets, scripted responders and the live view live here too.
"""
