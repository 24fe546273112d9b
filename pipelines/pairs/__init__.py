"""Preference pairs mined from the corpus (`corpus pairs`): chosen = the real doc, rejected =
a realistic wrong one, each of a named, counted kind, in its record's split.

Entry point: :func:`pipelines.pairs.run.make_pairs`. ``kinds`` (the rejection kinds, pure
functions of records), ``mine`` (pairs and their KTO view for a list of records), ``checks``
(the claims every set of pairs must hold, and the gate), ``generated`` (the ``model`` kind:
a model's generations the eval metrics rank below the doc), ``store`` (pairs on disk).
"""
