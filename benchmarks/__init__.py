"""gosplan benchmarks: ``python -m benchmarks.run`` (see ``run.py`` for the convention)."""
