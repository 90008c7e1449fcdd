"""`make bench` (python -m bot.devtools.bench): see __main__.py and docs/BENCH.md."""
