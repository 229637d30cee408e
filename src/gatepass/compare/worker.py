"""The second process of a revocation probe: ``python -m gatepass.compare.worker``.

Reads one JSON request per line on stdin (``{"url": store URL, "spec": check spec}``), opens the
store (once per URL), watches the credential (:func:`gatepass.compare.probe.watch`) and writes
``{"event": "ready"}`` and then the result as JSON lines on stdout. Exits at the end of stdin.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from gatepass import open_store
from gatepass.compare import checks
from gatepass.compare.probe import watch
from gatepass.errors import GatepassError


def _say(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def main() -> int:
    stores: dict[str, Any] = {}
    try:
        for line in sys.stdin:
            request = json.loads(line)
            url = request["url"]
            try:
                if url not in stores:
                    stores[url] = open_store(url)
                check = checks.build(stores[url], request["spec"])
            except GatepassError as exc:
                _say({"failure": f"{exc.code}: {exc}"})
                continue
            try:
                result = watch(check.request, lambda: _say({"event": "ready"}))
            finally:
                check.close()
            if "failure" in result:
                # Either the "ready" line never went out (its reader waits for this one), or it
                # did and this is the outcome: one line serves both.
                _say(result)
            else:
                _say({"event": "done", **result})
    finally:
        for store in stores.values():
            store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
