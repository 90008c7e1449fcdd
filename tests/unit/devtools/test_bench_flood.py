"""The bench's fairness phase report: Telegram's p95 beside the web flood against alone."""

from __future__ import annotations

from types import SimpleNamespace

from bot.devtools import bench


def run(latencies: list[float], **extra) -> dict:
    return {"latencies": latencies, "rate": 10.0, "lost": 0, "not_sent": 0, "twice": 0, **extra}


def test_the_flood_phase_reports_telegrams_p95_against_alone(capsys):
    args = SimpleNamespace(flood_senders=64, flood_users=20, flood_concurrency=4)
    alone = [run([0.2] * 20), run([0.2] * 20)]
    flooded = run([0.3] * 20,
                  flood={"answered": 500, "failed": 0, "elapsed": 25.0, "rate": 20.0})
    overhead = bench.print_flood(args, alone, flooded)
    assert abs(overhead - 0.5) < 1e-9  # p95 0.3 s beside the flood, 0.2 s alone
    out = capsys.readouterr().out
    assert "64 web senders" in out and "500 messages answered" in out and "+50 %" in out
