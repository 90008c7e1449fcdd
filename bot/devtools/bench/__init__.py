"""`make bench` (python -m bot.devtools.bench): see __main__.py and docs/BENCH.md.

The pure pieces, for tests and other tools: CPU accounting, the report's helpers, the setups.
"""

from bot.devtools.bench.cpu import CpuSnapshot, cpu_ms_per_message, phase_cpu
from bot.devtools.bench.paths import CONVERSATION
from bot.devtools.bench.report import answered, pct, print_cpu, print_flood
from bot.devtools.bench.setups import database_url, embedded_setup, redact

__all__ = ["CONVERSATION", "CpuSnapshot", "answered", "cpu_ms_per_message", "database_url",
           "embedded_setup", "pct", "phase_cpu", "print_cpu", "print_flood", "redact"]
