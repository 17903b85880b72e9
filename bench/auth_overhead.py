"""What authentication costs a request, and what a login costs, on a real server.

One `beatstream serve` process on the running stack (scratch database), one client,
requests one at a time, all scenarios in one run so they compare:

- the same public playlist read anonymously and with a bearer token: the difference
  is verifying the JWT, one Redis `EXISTS` on the revocation denylist and the
  account's role and token generation (a MongoDB read at most every
  `SECURITY_ACCOUNT_CACHE_TTL_S`, a dict lookup otherwise);
- a login at the default argon2id cost (64 MiB, 3 passes, 4 lanes), for a real
  account and for unknown emails (verified against a dummy hash: should match).
"""

from __future__ import annotations

import asyncio
import random
import secrets
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from beatstream.settings import Settings
from bench import report
from bench.support.processes import process_env, served
from bench.support.stores import drop_scratch_db, stack_settings
from bench.support.timing import summary, time_each
from bench.support.tokens import bearer
from seed.builders import artist_payload, listener_payload, song_payload

READS = 300
LOGINS = 30
PASSWORD = "bench password 1"  # noqa: S105 - a throwaway account on a scratch database


async def _measure(base_url: str, settings: Settings, secret: str) -> list[dict[str, Any]]:
    rng = random.Random(42)
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        admin = await bearer(settings, secret)
        artist = (await http.post("/v1/artists", json=artist_payload(rng), headers=admin)).json()
        songs = [
            (
                await http.post("/v1/songs", json=song_payload(rng, artist["id"]), headers=admin)
            ).json()["id"]
            for _ in range(20)
        ]
        listener = (
            await http.post("/v1/listeners", json=listener_payload(rng, password=PASSWORD))
        ).json()
        form = {"username": listener["email"], "password": PASSWORD}
        token = (await http.post("/v1/auth/token", data=form)).json()["access_token"]
        owner = {"Authorization": f"Bearer {token}"}
        playlist = (
            await http.post(
                f"/v1/listeners/{listener['id']}/playlists",
                json={"name": "bench", "visibility": "public"},
                headers=owner,
            )
        ).json()
        url = f"/v1/playlists/{playlist['id']}"
        await http.post(f"{url}/songs", json={"song_ids": songs}, headers=owner)

        async def anonymous_read() -> None:
            assert (await http.get(url)).status_code == 200

        async def bearer_read() -> None:
            assert (await http.get(url, headers=owner)).status_code == 200

        async def login() -> None:
            assert (await http.post("/v1/auth/token", data=form)).status_code == 200

        unknown = iter(range(10**6))

        async def unknown_email() -> None:
            # A fresh email each time: failures are throttled per email.
            bad = {"username": f"nobody-{next(unknown)}@example.com", "password": PASSWORD}
            assert (await http.post("/v1/auth/token", data=bad)).status_code == 401

        # The two reads alternate call by call, so load from the machine's other
        # users falls on both alike; the logins are timed one after the other.
        reads: dict[str, list[float]] = {"anonymous": [], "bearer": []}
        for _ in range(10):
            await anonymous_read()
            await bearer_read()
        for _ in range(READS):
            for name, fn in (("anonymous", anonymous_read), ("bearer", bearer_read)):
                started = time.perf_counter()
                await fn()
                reads[name].append((time.perf_counter() - started) * 1000)
        rows: list[dict[str, Any]] = [
            {"request": "GET playlist, anonymous", "count": READS, **summary(reads["anonymous"])},
            {"request": "GET playlist, bearer token", "count": READS, **summary(reads["bearer"])},
        ]
        for name, login_fn in (
            ("POST auth/token, right password", login),
            ("POST auth/token, unknown email", unknown_email),
        ):
            rows.append(
                {"request": name, "count": LOGINS, **summary(await time_each(login_fn, LOGINS))}
            )
        base: float = rows[0]["median_ms"]
        for row in rows:
            row["vs_anonymous_read"] = round(row["median_ms"] / base, 2)
        return rows


def run() -> Path:
    settings = stack_settings()
    secret = secrets.token_urlsafe(48)
    env = process_env(
        settings,
        ELASTICSEARCH_MANAGE_INDICES="false",
        REDIS_KEY_PREFIX=f"bench:{uuid.uuid4().hex[:8]}:",
        SECURITY_JWT_SECRET=secret,
    )
    try:
        with served(env) as base_url:
            rows = asyncio.run(_measure(base_url, settings, secret))
    finally:
        drop_scratch_db(settings)
    return report.write("auth_overhead", {"rows": rows}, rows)


if __name__ == "__main__":
    run()
