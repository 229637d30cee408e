"""Run one contender of ``bench/dpop_layers.py`` N times: for instruction counts under callgrind.

Wall-clock numbers on a shared machine swing by more than the 10 µs the DPoP target is about;
instruction counts do not. Count two runs that differ only in N and divide the difference by the
extra calls, so start-up, imports and key generation cancel out::

    for n in 300 600; do valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.$n \\
        .venv/bin/python bench/dpop_count.py "web dpop" $n; done
    # instructions per call = (Ir(600) - Ir(300)) / 300, from callgrind_annotate's totals

Contenders: ``sig floor``, ``strategy bearer``, ``strategy dpop``, ``web bearer``, ``web dpop``
(ES256 proofs, the in-process replay cache).
"""

from __future__ import annotations

import sys

from dpop_layers import layer_contenders


def main() -> None:
    name, count = sys.argv[1], int(sys.argv[2])
    calls, _ = layer_contenders("ES256", None)
    call = calls[name]
    for _ in range(20):  # warm the caches, as a serving process is
        call()
    for _ in range(count):
        call()


if __name__ == "__main__":
    main()
