"""Benchmarks: run with `make bench` (or `python -m bench [name ...]`).

Each benchmark returns a result dict; `report.write` stores it as JSON and adds a
short Markdown table. Figures are medians from one run on the machine at hand:
compare numbers measured side by side, not across machines.
"""
