"""The learning benchmark (``benchmarks/learning.py``) as a library: the registry of methods
(:mod:`~sb3_marl.benchmark.methods`), one run of a method (:mod:`~sb3_marl.benchmark.runs`), the
statistics over seeds (:mod:`~sb3_marl.benchmark.stats`), tables (:mod:`~sb3_marl.benchmark.report`)
and learning-curve plots (:mod:`~sb3_marl.benchmark.plot`). Tables and plots take any grouping of runs
with curves, so a sweep can reuse them. scipy is needed; matplotlib only for the plots."""
