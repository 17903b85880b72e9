"""`python -m bench.support.launch module:attribute --port N [--access-log]`: serve an
ASGI app (a bare framework app or the naive baseline) under uvicorn with the options
every `beatstream serve` process runs with (`beatstream.cli.serve.uvicorn_options`),
so only the app differs between a benchmark's rows."""

from __future__ import annotations

import argparse

import uvicorn

from beatstream.cli.serve import uvicorn_options
from beatstream.settings import get_settings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("app", help="module:attribute of the ASGI app")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--access-log", action="store_true", help="uvicorn's own access log (INFO) on stderr"
    )
    args = parser.parse_args()
    uvicorn.run(
        args.app,
        host="127.0.0.1",
        port=args.port,
        access_log=args.access_log,
        log_level="info" if args.access_log else "warning",
        **uvicorn_options(get_settings()),
    )


if __name__ == "__main__":
    main()
