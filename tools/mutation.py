"""`make mutation`: mutmut 3 over the security-critical modules, with per-module scores.

mutmut 3 derives a module's import name from its path and only knows the `src/` layout,
so the run happens in a staging copy (`build/mutation/`) where `platform/beatstream`
sits at `src/beatstream`; nothing in the worktree is mutated. Only pure unit tests run
against the mutants (no store, no app), so a full run takes minutes on two cores.

Scores count killed / (total - equivalent). Equivalent mutants, listed below with the
reason, are the ones no test can kill because the program behaves identically; they
are named by mutmut's mutant id, which shifts when a function changes: a stale entry
is reported, never silently dropped. docs/mutation.md explains the setup.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAGE = ROOT / "build" / "mutation"
THRESHOLD = 0.90
# pytest's "tests failed" and "internal error", and mutmut's CPU-time limit (SIGXCPU:
# a mutant that loops forever), as mutmut's own `status_by_exit_code` counts them.
KILLED = (1, 3, -24, 24, 36, 152, 255)

# Module -> the mutmut name patterns of what is under test in it.
TARGETS: dict[str, list[str]] = {
    "beatstream.redact": ["beatstream.redact.*"],
    "beatstream.common.query_guard": ["beatstream.common.query_guard.*"],
    "beatstream.common.pagination": ["beatstream.common.pagination.*"],
    "beatstream.partners.views.pseudonyms": ["beatstream.partners.views.pseudonyms.*"],
    # Bucket selection only: the GCRA script and the middleware plumbing are tested
    # against real Redis elsewhere, not by this fast run.
    "beatstream.ratelimit": [
        "beatstream.ratelimit.x_bucket_for__mutmut_*",
        "beatstream.ratelimit.x__verified_subject__mutmut_*",
    ],
}

# Lines no mutant is made of. redact.py's `_Meter` is instrumentation: it counts the
# scanner's steps for the linear-work tests and no output depends on it. Mutating its
# arithmetic changes no behaviour; the upper bounds catch a count grown quadratic but
# no bound can see one that under-counts (44 of 56 such mutants survived when they
# were generated). The meter is checked by the linear tests, not mutated.
NOT_MUTATED = [r"\b(meter|self)\.steps\b"]

TESTS = [
    "tests/beatstream/test_redact.py",
    "tests/beatstream/test_redact_mutants.py",
    "tests/beatstream/test_redact_linear.py",
    "tests/beatstream/common/test_query_guard.py",
    "tests/beatstream/common/test_pagination.py",
    "tests/beatstream/partners/views/test_pseudonyms.py",
    "tests/beatstream/test_ratelimit_buckets.py",
]

# Mutant id -> (the mutated code, why no test can tell it from the original). The code
# is checked against `mutmut show`, so an id that shifted to another mutant is caught.
_PADDING = "pads 3 where 1 is due; the lenient base64 decoder ignores surplus '='"
_STRICT = "the keystream is always cut to the data's length, so zip's `strict` never fires"
_INNER = "the ValueError is caught in the same function and replaced; its text is never seen"
_NO_KEY_AT_0 = "an anchor at 0 has nothing before it (no scheme, no key): never a match"
_FILTER = (
    "the `_KEY_LAST` test is a shortcut: a `=` it lets through is refused by `_KEY` a few"
    " lines on (a key of length 0 or one ending in another letter)"
)
_JOIN = "with nothing masked, the join of no parts plus text[0:] is the text itself"
_AT = (
    "`at` only lets the scan stop early when no `@` follows the anchor (no password can"
    " match then); a stale, earlier, later-but-still-first or last `@` stops it no later"
    " than that, and matching never reads `at`"
)
_BEFORE_AT = (
    "a `@` follows the anchor (else the scan stopped) and the run stops at it, so the run"
    " ends before `n`: `== n` never happens"
)
EQUIVALENT: dict[str, tuple[str, str]] = {
    "beatstream.common.pagination.x_decode_cursor__mutmut_6": (
        '"=" * (+len(cursor) % 4)',
        _PADDING,
    ),
    "beatstream.common.pagination.x_decode_cursor__mutmut_37": ("ValueError(None)", _INNER),
    "beatstream.common.pagination.x_decode_cursor__mutmut_38": ('ValueError("XXcursor', _INNER),
    "beatstream.common.pagination.x_decode_cursor__mutmut_39": ('ValueError("CURSOR', _INNER),
    "beatstream.common.pagination.x_encode_cursor__mutmut_17": (
        '.rstrip("XX=XX")',
        "also strips a final 'X', but a cursor is base64 of JSON ending in '}', whose last"
        " base64 character is always '9', 'Q' or '0'",
    ),
    "beatstream.partners.views.pseudonyms.x__unb64__mutmut_6": ('"=" * (+len(text) % 4)', _PADDING),
    "beatstream.partners.views.pseudonyms.x__xor__mutmut_5": ("strict=None", _STRICT),
    "beatstream.partners.views.pseudonyms.x__xor__mutmut_8": ("zip(data, stream, )", _STRICT),
    "beatstream.partners.views.pseudonyms.x__xor__mutmut_9": ("strict=False", _STRICT),
    "beatstream.partners.views.pseudonyms.xǁPseudonymsǁ_keystream__mutmut_3": (
        "(length + _BLOCK + 1) // _BLOCK",
        "sometimes one block more, and the stream is cut to length",
    ),
    "beatstream.partners.views.pseudonyms.xǁPseudonymsǁ_keystream__mutmut_18": (
        "counter.to_bytes(4, )",
        "big-endian is the default on Python 3.11+",
    ),
    "beatstream.partners.views.pseudonyms.xǁPseudonymsǁephemeral__mutmut_8": (
        "token_bytes(None)",
        "`token_bytes(None)` is 32 random bytes, the same as `token_bytes(32)`",
    ),
    "beatstream.partners.views.pseudonyms.xǁPseudonymsǁephemeral__mutmut_9": (
        "token_bytes(33)",
        "a 33-byte random secret is as good as a 32-byte one; only >= 32 is required",
    ),
    # redact.py: the scanner. Output is pinned against the old regexes by property
    # tests (test_redact_linear.py), which every one of these passes.
    "beatstream.redact.x__mask_params__mutmut_5": ("pos = 1", _NO_KEY_AT_0),
    "beatstream.redact.x__mask_params__mutmut_16": (
        "pos = equals + 2",
        "skips the character after a `=`; a `=` there follows a `=`, not a key's last letter",
    ),
    "beatstream.redact.x__mask_params__mutmut_17": ("equals == 0 and text", _FILTER),
    "beatstream.redact.x__mask_params__mutmut_19": ("equals == 1 or", _FILTER),
    "beatstream.redact.x__mask_params__mutmut_31": (
        "equals - _KEY_MAX - 2",
        "a wider window only adds a delimiter 11 back, a key length not in _KEY_LENGTHS",
    ),
    "beatstream.redact.x__mask_params__mutmut_35": (
        "text.rfind(d, None, equals)",
        "the last delimiter is the same or lies before the previous value's end, where the"
        " key would hold its `#` or blank; the work grows, but the meter charges the window",
    ),
    "beatstream.redact.x__mask_params__mutmut_66": (
        "_run_end(_VALUE, text, equals - 1)",
        "the run also covers the key's last letter and the `=`, neither a value stop",
    ),
    "beatstream.redact.x__mask_params__mutmut_74": ("if (out) or True else", _JOIN),
    "beatstream.redact.x__mask_userinfo__mutmut_5": ("pos = 1", _NO_KEY_AT_0),
    "beatstream.redact.x__mask_userinfo__mutmut_7": ("at = +1", _AT),
    "beatstream.redact.x__mask_userinfo__mutmut_8": ("at = -2", _AT),
    "beatstream.redact.x__mask_userinfo__mutmut_20": (
        "pos = anchor + 2",
        "no `://` starts at anchor + 1: that character is `/`",
    ),
    "beatstream.redact.x__mask_userinfo__mutmut_21": ("if at <= anchor + 3:", _AT),
    "beatstream.redact.x__mask_userinfo__mutmut_22": ("if at < anchor - 3:", _AT),
    "beatstream.redact.x__mask_userinfo__mutmut_23": ("if at < anchor + 4:", _AT),
    "beatstream.redact.x__mask_userinfo__mutmut_26": ('text.find("@", None)', _AT),
    "beatstream.redact.x__mask_userinfo__mutmut_28": ('text.find("@", )', _AT),
    "beatstream.redact.x__mask_userinfo__mutmut_29": ('text.rfind("@", max(at + 1', _AT),
    "beatstream.redact.x__mask_userinfo__mutmut_35": ("max(at - 1, anchor + 3)", _AT),
    "beatstream.redact.x__mask_userinfo__mutmut_36": ("max(at + 2, anchor + 3)", _AT),
    "beatstream.redact.x__mask_userinfo__mutmut_37": ("max(at + 1, anchor - 3)", _AT),
    "beatstream.redact.x__mask_userinfo__mutmut_38": ("max(at + 1, anchor + 4)", _AT),
    "beatstream.redact.x__mask_userinfo__mutmut_39": ("if at <= 0:", _AT),
    "beatstream.redact.x__mask_userinfo__mutmut_40": ("if at < 1:", _AT),
    "beatstream.redact.x__mask_userinfo__mutmut_44": (
        "while start >= copied and",
        "the walk back stops at the `@` at `copied` (not a scheme character) or, from 0,"
        " wraps to the text's end and stops at the anchor's `:`; the letter search clamps"
        " a negative start to 0, the same run",
    ),
    "beatstream.redact.x__mask_userinfo__mutmut_70": ("if user_end > n or", _BEFORE_AT),
    "beatstream.redact.x__mask_userinfo__mutmut_84": ("if password_end > n or", _BEFORE_AT),
    "beatstream.redact.x__mask_userinfo__mutmut_94": ("if (out) or True else", _JOIN),
    "beatstream.redact.x__run_end__mutmut_7": (
        "if (match) or True else",
        "a `*` run always matches, so `match` is never None",
    ),
    "beatstream.ratelimit.x__verified_subject__mutmut_9": (
        'decode("LATIN-1")',
        "codec names are case-insensitive: 'LATIN-1' is 'latin-1'",
    ),
    "beatstream.ratelimit.x_bucket_for__mutmut_8": (
        'scope.get("path", "XXXX")',
        "a scope without a path: '' and 'XXXX' are both neither exempt nor keyed",
    ),
}

NAMED_STAGE = ROOT / "build" / "mutation-named"
# A fixed Hypothesis seed: the property tests of redaction run against the mutants too,
# and a mutant must be killed (or survive) the same way on every run.
PYTEST_ARGS = ["-p", "no:randomly", "-p", "no:cacheprovider", "-q", "--hypothesis-seed=0"]
REDACT_TESTS = [
    "tests/beatstream/test_redact.py",
    "tests/beatstream/test_redact_mutants.py",
    "tests/beatstream/test_redact_linear.py",
]
GUARD_TESTS = [
    "tests/beatstream/common/test_query_guard.py",
    "tests/beatstream/common/test_query_guard_route.py",
]
SEAL_TESTS = ["tests/beatstream/partners/views/test_pseudonyms.py"]
BUCKET_TESTS = ["tests/beatstream/test_ratelimit_buckets.py", "tests/beatstream/test_ratelimit.py"]


@dataclass(frozen=True)
class Named:
    """A mutant issue 10 found surviving, as a textual edit; mutmut generates none of
    them (it leaves regex text and whole conditions alone), so they are checked here,
    each against the tests that must catch it, integration tests included."""

    what: str
    module: str
    old: str
    new: str
    tests: list[str]


_KEYS = ("password", "passwd", "pwd", "pass", "secret", "token", "api_key", "apikey", "access_key")
NAMED: list[Named] = [
    # The key list is three things now: `_KEY` (the words), `_KEY_LENGTHS` (the window
    # the scanner accepts) and `_KEY_LAST` (a `=` is only an anchor after a key's last
    # letter). Dropping a key from any of them must be caught.
    *(
        Named(
            f"redact: `{key}` dropped from the key list",
            "redact",
            f'_KEY = re.compile(r"{"|".join(_KEYS)}"',
            f'_KEY = re.compile(r"{"|".join(k for k in _KEYS if k != key)}"',
            REDACT_TESTS,
        )
        for key in ("token", "api_key", "secret", "access_key")
    ),
    *(
        Named(f"redact: key length {length} dropped ({keys})", "redact", old, new, REDACT_TESTS)
        for length, keys, old, new in [
            (5, "token", "{3, 4, 5, 6,", "{3, 4, 6,"),
            (6, "secret, passwd, apikey", "{3, 4, 5, 6, 7,", "{3, 4, 5, 7,"),
            (7, "api_key", "6, 7, 8, 10}", "6, 8, 10}"),
            (10, "access_key", "7, 8, 10}", "7, 8}"),
        ]
    ),
    *(
        Named(
            f"redact: `{letter}` dropped from `_KEY_LAST` ({keys})",
            "redact",
            old,
            new,
            REDACT_TESTS,
        )
        for letter, keys, old, new in [
            ("n", "token", '"dstnyDSTNY', '"dstyDSTNY'),
            ("t", "secret", '"dstnyDSTNY', '"dsnyDSTNY'),
            ("y", "apikey, api_key, access_key", '"dstnyDSTNY', '"dstnDSTNY'),
            ("\\u017f (long s)", "pass matched by re.IGNORECASE", "DSTNY\\u017f", "DSTNY"),
        ]
    ),
    Named(
        "redact: case-sensitive keys",
        "redact",
        'access_key", re.IGNORECASE)',
        'access_key", 0)',
        REDACT_TESTS,
    ),
    Named(
        "redact: case-sensitive last-letter filter",
        "redact",
        '"dstnyDSTNY\\u017f"',
        '"dstny"',
        REDACT_TESTS,
    ),
    Named("redact: values stop only at &", "redact", r"[^&;#\s]*", "[^&]*", REDACT_TESTS),
    Named(
        "redact: only lines holding `://` are searched",
        "redact",
        'if "://" not in text and "=" not in text:',
        'if "://" not in text:',
        REDACT_TESTS,
    ),
    Named(
        "redact: key window one short (no room for `access_key`'s delimiter)",
        "redact",
        "equals - _KEY_MAX - 1)",
        "equals - _KEY_MAX)",
        REDACT_TESTS,
    ),
    Named(
        "redact: URL passwords only searched when the text starts with `@`",
        "redact",
        'if "@" in text:',
        'if text.startswith("@"):',
        REDACT_TESTS,
    ),
    Named(
        "redact: the next `@` looked up past the one an earlier anchor found",
        "redact",
        "if at < anchor + 3:",
        "if True:",
        REDACT_TESTS,
    ),
    Named(
        "redact: no stop when no `@` follows (a find per anchor: quadratic)",
        "redact",
        "            if at < 0:\n                break",
        "            if at < 0:\n                continue",
        REDACT_TESTS,
    ),
    Named(
        "redact: the `@` found again from every anchor (quadratic)",
        "redact",
        '        if at < anchor + 3:\n            at = text.find("@", max(at + 1, anchor + 3))',
        '        if True:\n            at = text.find("@", anchor + 3)',
        REDACT_TESTS,
    ),
    Named(
        "query guard: `if False:`",
        "common/query_guard",
        'if key.startswith("$") or "." in key or "[" in key or "]" in key:',
        "if False:",
        GUARD_TESTS,
    ),
    Named(
        "seal: MAC over nothing",
        "partners/views/pseudonyms",
        "hmac.new(self._mac, nonce + ciphertext, hashlib.sha256)",
        'hmac.new(self._mac, b"", hashlib.sha256)',
        SEAL_TESTS,
    ),
    Named(
        "seal: MAC over the ciphertext only",
        "partners/views/pseudonyms",
        "hmac.new(self._mac, nonce + ciphertext, hashlib.sha256)",
        "hmac.new(self._mac, ciphertext, hashlib.sha256)",
        SEAL_TESTS,
    ),
    Named(
        "seal: one keystream for every token",
        "partners/views/pseudonyms",
        'nonce + counter.to_bytes(4, "big")',
        'counter.to_bytes(4, "big")',
        SEAL_TESTS,
    ),
    Named(
        "rate limit: API-key exemption inverted",
        "ratelimit",
        'if b"x-api-key" in headers and',
        'if b"x-api-key" not in headers and',
        BUCKET_TESTS,
    ),
    Named(
        "rate limit: every anonymous client in one bucket",
        "ratelimit",
        "return f\"ip:{client[0] if client else 'unknown'}\", settings.anonymous_limit",
        'return "ip:all", settings.anonymous_limit',
        BUCKET_TESTS,
    ),
]


def _pytest_section() -> str:
    """The project's `[tool.pytest.ini_options]`, verbatim (markers, asyncio mode)."""
    text = (ROOT / "pyproject.toml").read_text()
    start = text.index("[tool.pytest.ini_options]")
    end = text.index("\n[", start + 1)
    return text[start:end].strip() + "\n"


def _mutmut_section() -> str:
    files = [f"src/{name.replace('.', '/')}.py" for name in TARGETS]
    return (
        "[tool.mutmut]\n"
        'source_paths = ["src/beatstream"]\n'
        f"only_mutate = {json.dumps(files)}\n"
        f"pytest_add_cli_args_test_selection = {json.dumps(TESTS)}\n"
        f"pytest_add_cli_args = {json.dumps(PYTEST_ARGS)}\n"
        "use_git_change_detection = false\n"
        f"do_not_mutate_patterns = {json.dumps(NOT_MUTATED)}\n"
    )


def stage() -> None:
    shutil.rmtree(STAGE, ignore_errors=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "platform" / "beatstream", STAGE / "src" / "beatstream", ignore=ignore)
    shutil.copytree(ROOT / "tests", STAGE / "tests", ignore=ignore)
    (STAGE / "pyproject.toml").write_text(_pytest_section() + "\n" + _mutmut_section())


def run() -> None:
    patterns = [pattern for patterns in TARGETS.values() for pattern in patterns]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    max_children = os.environ.get("MUTATION_JOBS", str(os.cpu_count() or 1))
    subprocess.run(
        [sys.executable, "-m", "mutmut", "run", "--max-children", max_children, *patterns],
        cwd=STAGE,
        env=env,
        check=True,
    )


def _in_scope(module: str, mutant: str) -> bool:
    return any(fnmatch(mutant, pattern) for pattern in TARGETS[module])


def _show(mutant: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "mutmut", "show", mutant],
        cwd=STAGE,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout


def _is_listed_equivalent(mutant: str) -> bool:
    """Listed, and `mutmut show` still shows the listed change (ids shift with edits)."""
    if mutant not in EQUIVALENT:
        return False
    fragment = EQUIVALENT[mutant][0]
    if any(line.startswith("+") and fragment in line for line in _show(mutant).splitlines()):
        return True
    print(f"equivalent-mutant entry no longer matches (update it): {mutant} {fragment!r}")
    return False


def results() -> dict[str, dict[str, int]]:
    """Exit code per mutant, from mutmut's `.meta` files: `KILLED` killed, 0 survived."""
    statuses: dict[str, Counter[str]] = {module: Counter() for module in TARGETS}
    survivors: list[str] = []
    seen: set[str] = set()
    for module in TARGETS:
        meta = STAGE / "mutants" / "src" / (module.replace(".", "/") + ".py.meta")
        codes: dict[str, int | None] = json.loads(meta.read_text())["exit_code_by_key"]
        for mutant, code in sorted(codes.items()):
            if not _in_scope(module, mutant):
                continue
            seen.add(mutant)
            if code in KILLED:
                statuses[module]["killed"] += 1
                if mutant in EQUIVALENT:
                    print(f"listed as equivalent but killed (update the list): {mutant}")
            elif _is_listed_equivalent(mutant):
                statuses[module]["equivalent"] += 1
            else:
                statuses[module]["survived" if code == 0 else f"exit {code}"] += 1
                survivors.append(mutant)
    for mutant in survivors:
        print(f"\n--- not killed: {mutant}\n{_show(mutant)}")
    for mutant in sorted(set(EQUIVALENT) - seen):
        print(f"stale equivalent-mutant entry (no such mutant now): {mutant}")
    return {module: dict(counter) for module, counter in statuses.items()}


def report(scores: dict[str, dict[str, int]]) -> bool:
    print(f"\n{'module':36} {'killed':>7} {'scored':>7} {'equiv.':>7} {'score':>7}")
    ok = True
    for module, counts in scores.items():
        killed = counts.get("killed", 0)
        equivalent = counts.get("equivalent", 0)
        scored = sum(counts.values()) - equivalent
        score = killed / scored if scored else 1.0
        ok = ok and score >= THRESHOLD
        print(f"{module:36} {killed:7} {scored:7} {equivalent:7} {score:7.1%}")
    print(f"\nthreshold {THRESHOLD:.0%}: {'met' if ok else 'NOT met'}")
    return ok


def _pytest(tests: list[str]) -> int:
    env = {**os.environ, "PYTHONPATH": str(NAMED_STAGE / "src"), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-x", *PYTEST_ARGS, *tests],
        cwd=NAMED_STAGE,
        env=env,
        capture_output=True,
        check=False,
    )
    return done.returncode


def named() -> bool:
    """Apply each `NAMED` mutant to a staged copy; the tests must fail on every one.

    The unmutated copy runs first: a kill only counts if the same tests pass without it.
    """
    shutil.rmtree(NAMED_STAGE, ignore_errors=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(
        ROOT / "platform" / "beatstream", NAMED_STAGE / "src" / "beatstream", ignore=ignore
    )
    shutil.copytree(ROOT / "tests", NAMED_STAGE / "tests", ignore=ignore)
    shutil.copy2(ROOT / "pyproject.toml", NAMED_STAGE / "pyproject.toml")
    print("\nIssue-10 mutants (each must fail its tests):")
    every_test = sorted({test for mutant in NAMED for test in mutant.tests})
    control = _pytest(every_test)
    if control != 0:
        print(f"  the unmutated code fails these tests (pytest exit {control}): nothing to judge")
        return False
    ok = True
    for mutant in NAMED:
        path = NAMED_STAGE / "src" / "beatstream" / f"{mutant.module}.py"
        source = path.read_text()
        if source.count(mutant.old) != 1:
            print(f"  n/a      {mutant.what} (the code changed: update the mutant)")
            ok = False
            continue
        path.write_text(source.replace(mutant.old, mutant.new))
        try:
            code = _pytest(mutant.tests)
        finally:
            path.write_text(source)
        killed = code == 1
        ok = ok and killed
        print(f"  {'killed  ' if killed else 'SURVIVED'} {mutant.what} (pytest exit {code})")
    return ok


def main() -> int:
    """Everything by default; `--report-only` re-reads the last run, `--named-only`
    checks just the issue-10 mutants."""
    if "--named-only" in sys.argv:
        return 0 if named() else 1
    if "--report-only" in sys.argv:
        return 0 if report(results()) else 1
    stage()
    run()
    scores_ok = report(results())
    return 0 if named() and scores_ok else 1


if __name__ == "__main__":
    sys.exit(main())
