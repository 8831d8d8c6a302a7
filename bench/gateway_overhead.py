"""What a gateway adds on top of the engine: mamori and LiteLLM's proxy, against the engine itself.

Run from the repository root (``make bench``)::

    .venv/bin/python bench/gateway_overhead.py [--quick | --smoke] [--no-litellm] [--hold S]

Processes, so that no two share a GIL: this one (the load client), two fake engines
(``tests.support.fake_upstream``, one streaming at 20 ms a token, one as fast as it can),
``mamori serve`` in front of both, and LiteLLM's proxy in front of both (installed on first use
into a throwaway virtualenv under ``~/.cache/mamori-bench``). The same light client streams chat
completions from the engine directly ("direct") and through each gateway, alternating, and
reports each gateway's cost as the difference. The code lives in ``bench/overhead/``.

It reports, it does not gate: missed targets still exit 0. Request errors, short streams or a
failed correctness check exit 1.
"""

import sys
from pathlib import Path

if __name__ == "__main__":
    # Run as a script: the repository root makes ``bench.overhead`` and ``tests.support``
    # importable, as they are for mypy and pytest.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.overhead.cli import main

    sys.exit(main())
