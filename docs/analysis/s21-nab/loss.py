"""Round nine's loss table (``docs/analysis/s20-nab/loss.py``) for the confirmed partial onset
(any novelty, the file's rest, ``quiet`` 10; threshold only): where the held-out loss is left
(``docs/modelling.md``, "NAB round ten"). ``PYTHONPATH=. python docs/analysis/s21-nab/loss.py
[standard|reward_low_FP_rate]``."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import load, suppress  # noqa: E402

if __name__ == "__main__":
    load("s20_loss", "s20-nab/loss.py").main(lambda r: suppress(r, "rest", quiet=10.0))
