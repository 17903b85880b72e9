"""What benchmarks share, one module per concern: `stores` (scratch database and index
prefix), `processes` (servers and sync workers in their own process, their environment),
`timing` (timings and concurrent load), `tokens` (bearer headers), `changes` (a random
stream of catalogue writes). Not a benchmark itself: `python -m bench` skips it."""
