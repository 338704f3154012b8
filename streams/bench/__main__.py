"""``python -m streams.bench``: the benchmarks (``make bench``)."""

import sys

from streams.bench.main import main

sys.exit(main())
