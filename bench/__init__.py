"""Benchmarks for the twofa provider, run with ``make bench`` or ``python -m bench [NAME ...]``.

Every benchmark is a module ``bench/<name>.py`` listed in ``bench.__main__.BENCHMARKS``. A module
provides:

- ``DESCRIPTION``: one line for ``--help``;
- ``add_arguments(parser)`` (optional): extra command-line options of its own;
- ``run(options) -> dict``: run, print its tables (``bench.report.print_table``) and return a
  JSON-serialisable result. ``bench.__main__`` writes it to ``bench/results/<name>-<UTC>.json``
  and ``bench/results/<name>-latest.json``. A top-level ``"pass"`` key (bool) is the goal's
  verdict, if the benchmark has one.

Shared plumbing, one module per job: ``servers`` (the provider subprocess), ``load`` (load
generation, with ``wrk_load`` and ``python_load``), ``aio_http``, ``sse`` and ``callback_sink``
(cheap asyncio clients and receivers), ``stats``, ``usage`` (CPU, memory, open files),
``profiling`` (py-spy) and ``report`` (tables, verdicts, JSON). Benchmarks never install
anything: a missing tool is named with the command that installs it.
"""
