"""pytest plugin for `make test`: prints how long each notebook took under nbval (notebooks/ and assignments/).

The budget is 3 minutes per notebook at the full size with a cold cache on 2 CPU cores (15 s warm);
a notebook over 3 minutes is flagged in the summary. Times are printed, never asserted: they vary by
machine and load (benchmarks/notebook_times.py measures them on quiet cores for the README).
"""

from collections import defaultdict

BUDGET_S = 180
_seconds: dict[str, float] = defaultdict(float)


def pytest_runtest_logreport(report):
    if report.nodeid.split("::")[0].endswith(".ipynb"):
        _seconds[report.nodeid.split("::")[0]] += report.duration


def pytest_terminal_summary(terminalreporter):
    if not _seconds:
        return
    from aelab import config  # the one reader of AELAB_*, with its one yes/no rule

    dataset, size = config.dataset(), "fast" if config.fast() else "full"
    terminalreporter.section(f"notebook durations ({dataset}, {size} size)")
    for name, seconds in sorted(_seconds.items()):
        flag = "  OVER THE 3-MINUTE BUDGET" if seconds > BUDGET_S else ""
        terminalreporter.write_line(f"{seconds:7.1f} s  {name}{flag}")
    terminalreporter.write_line(f"{sum(_seconds.values()):7.1f} s  total")
