"""Measuring what the corpus teaches: `corpus eval` (systems, metrics, bootstrap CIs, report).

Entry point: :func:`pipelines.eval.run.evaluate`. The logic needs no model: ``metrics`` and
``bleu`` are pure functions over strings and records, ``bootstrap`` over arrays of scores;
``baselines`` and ``remote`` produce outputs without torch; ``systems`` loads models lazily
through ``pipelines.train.inference``; ``report`` writes eval.json, report.md and the plots.
"""
