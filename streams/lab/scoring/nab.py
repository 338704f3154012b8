"""NAB scoring (Numenta Anomaly Benchmark v1.1), pure and vectorised.

The rules are those of ``/work/shared/data/README.md``, which follow NAB's ``sweeper.py``:

* the first ``min(floor(0.15 * rows), 750)`` rows of a file (probation) are never detections;
* a row inside window ``[L, R]`` (width ``W``) is worth ``σ(-(R - i + 1) / W) · A_TP / σ(-1)``;
  a row outside every window is worth ``-A_FP`` before the file's first window has ended and
  ``σ(|i - R_prev| / (W_prev - 1)) · A_FP`` after it, with ``σ(y) = 2 / (1 + e^(5y)) - 1``
  (``-1`` for ``y > 3``);
* at threshold ``t`` a row is a detection when ``score >= t``; a window scores the sweep value
  of its earliest detection, or ``-A_FN``; every detection outside windows adds its (negative)
  sweep value, without deduplication;
* one threshold for the whole corpus: every distinct score is tried, high to low, and the best
  total wins (ties go to the higher threshold, as NAB's stable sort does); "detect nothing" is a
  candidate too, reported as ``threshold = inf`` (NAB writes 1.1);
* ``normalised = 100 · (S - S_null) / (S_perfect - S_null)`` with ``S_perfect = windows · A_TP``
  and ``S_null = -windows · A_FN``.

Choices where NAB and the README leave room, kept explicit:

* Windows map to rows by time: ``L`` is the first row with ``ts >= start``, ``R`` the last row
  with ``ts <= end`` (NAB requires exact timestamp matches; on NAB's own labels both agree).
* A window that overlaps probation keeps its full geometry (``L``, ``W``), but only its rows
  after probation can detect it. Every window counts in ``S_perfect``/``S_null`` and, if never
  detected, as ``-A_FN``, so a window lying wholly in probation is an unavoidable miss. NAB's
  code would instead drop such a window from the score; NAB's labels (and this subset's) never
  place one there, so the two agree on the benchmark.
* ``W_prev = 1`` (a one-row window) makes NAB divide by zero; here it counts as ``y = +inf``,
  i.e. ``-A_FP``.
* ``tp``/``fn`` count windows (detected / missed), ``fp`` counts detected rows outside windows.

The threshold sweep is exact: each window contributes a step function of the threshold that
changes only at its "record" rows (a row scoring strictly above every earlier row of the
window), each outside row contributes at its own score, so sorting those events once and
taking a cumulative sum scores every candidate threshold in ``O(rows log rows)``.

Timestamps are ``int`` milliseconds (see :mod:`streams.lab.nabdata` for parsing NAB's files).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

PROBATION_FRACTION = 0.15
PROBATION_MAX_ROWS = 750


@dataclass(frozen=True)
class Profile:
    """A NAB cost profile: weights of a true positive, a false negative and a false positive."""

    name: str
    a_tp: float
    a_fn: float
    a_fp: float


STANDARD = Profile("standard", 1.0, 1.0, 0.11)
REWARD_LOW_FP = Profile("reward_low_FP_rate", 1.0, 1.0, 0.22)
REWARD_LOW_FN = Profile("reward_low_FN_rate", 1.0, 2.0, 0.11)
PROFILES: Mapping[str, Profile] = {p.name: p for p in (STANDARD, REWARD_LOW_FP, REWARD_LOW_FN)}


def profiles_from_json(obj: Mapping[str, Mapping[str, Mapping[str, float]]]) -> dict[str, Profile]:
    """Profiles from the parsed ``profiles.json`` (``{name: {"CostMatrix": {...Weight}}}``)."""
    out: dict[str, Profile] = {}
    for name, body in obj.items():
        cost = body["CostMatrix"]
        out[name] = Profile(
            name, float(cost["tpWeight"]), float(cost["fnWeight"]), float(cost["fpWeight"])
        )
    return out


@dataclass(frozen=True)
class FileScore:
    """One file's share of a corpus score at the corpus threshold."""

    raw: float
    tp: int
    fp: int
    fn: int


@dataclass(frozen=True)
class CorpusScore:
    """A detector's NAB score on a corpus under one profile."""

    profile: str
    normalised: float
    raw: float
    threshold: float
    per_file: Mapping[str, FileScore]
    tp: int
    fp: int
    fn: int
    windows: int


def probation_rows(n_rows: int) -> int:
    """Rows at the start of a file that are never scored: ``min(floor(0.15 n), 750)``."""
    return min(math.floor(PROBATION_FRACTION * n_rows), PROBATION_MAX_ROWS)


def rest_rows(n_rows: int) -> int:
    """A detector's rest period after an alarm on a file of ``n_rows`` rows: its probationary
    rows over 5, as NAB's harness sets CAD OSE's (``restPeriod = probationaryPeriod / 5``);
    150 for a file of 5,000 rows or more, the pipeline's ``anomaly_rest`` for a live stream.

    >>> rest_rows(4032), rest_rows(1600), rest_rows(22695)
    (120, 48, 150)
    """
    return max(1, probation_rows(n_rows) // 5)


def scaled_sigmoid(y: npt.ArrayLike) -> FloatArray:
    """NAB's ``σ(y) = 2 / (1 + e^(5y)) - 1``, and ``-1`` where ``y > 3``."""
    arr = np.asarray(y, dtype=np.float64)
    with np.errstate(over="ignore"):
        val = 2.0 / (1.0 + np.exp(5.0 * arr)) - 1.0
    return np.where(arr > 3.0, -1.0, val)


_MAX_TP = float(scaled_sigmoid(-1.0))


def window_rows(
    ts_ms: npt.ArrayLike, windows_ms: Sequence[tuple[int, int]]
) -> list[tuple[int, int]]:
    """Row index pairs ``(L, R)`` of time windows, sorted by ``L``.

    ``L`` is the first row with ``ts >= start`` and ``R`` the last row with ``ts <= end``, in
    row order: NAB's files are not always monotonic (duplicated rows, a clock step back), so
    this never assumes sorted timestamps. Raises ``ValueError`` when a window holds no row or
    two windows share a row.
    """
    ts = np.asarray(ts_ms, dtype=np.int64)
    rows: list[tuple[int, int]] = []
    for start, end in windows_ms:
        after_start = np.flatnonzero(ts >= start)
        before_end = np.flatnonzero(ts <= end)
        if after_start.size == 0 or before_end.size == 0 or after_start[0] > before_end[-1]:
            raise ValueError(f"window [{start}, {end}] ms holds no row of the file")
        rows.append((int(after_start[0]), int(before_end[-1])))
    rows.sort()
    for (_, r_prev), (left, _) in zip(rows, rows[1:], strict=False):
        if left <= r_prev:
            raise ValueError(f"windows overlap at row {left}; NAB windows must be disjoint")
    return rows


def sweep_values(n_rows: int, windows: Sequence[tuple[int, int]], profile: Profile) -> FloatArray:
    """Each row's NAB sweep value (what detecting that row is worth), given row windows."""
    i = np.arange(n_rows, dtype=np.float64)
    out = np.empty(n_rows, dtype=np.float64)
    inside = np.zeros(n_rows, dtype=bool)
    for left, right in windows:
        width = float(right - left + 1)
        y = -(right - i[left : right + 1] + 1.0) / width
        # Divide by maxTP before weighting, so the left edge is exactly A_TP.
        out[left : right + 1] = scaled_sigmoid(y) / _MAX_TP * profile.a_tp
        inside[left : right + 1] = True
    if windows:
        rights = np.array([r for _, r in windows], dtype=np.float64)
        widths = np.array([r - lft + 1 for lft, r in windows], dtype=np.float64)
        prev = np.searchsorted(rights, i, side="left") - 1  # latest window with R < i
        has_prev = prev >= 0
        r_prev = np.where(has_prev, rights[prev], 0.0)
        denom = np.where(has_prev, widths[prev] - 1.0, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            y_out = np.where(has_prev & (denom > 0), np.abs(i - r_prev) / denom, np.inf)
    else:
        y_out = np.full(n_rows, np.inf)
    outside = ~inside
    out[outside] = scaled_sigmoid(y_out[outside]) * profile.a_fp
    return out


@dataclass(frozen=True)
class _Prepared:
    """One file reduced to what scoring needs: scores, sweep values and row windows."""

    scores: FloatArray
    sweep: FloatArray
    windows: list[tuple[int, int]]
    probation: int


def _prepare(
    name: str,
    ts_ms: npt.ArrayLike,
    scores: npt.ArrayLike,
    windows_ms: Sequence[tuple[int, int]],
    profile: Profile,
) -> _Prepared:
    s = np.asarray(scores, dtype=np.float64)
    ts = np.asarray(ts_ms, dtype=np.int64)
    if s.ndim != 1 or ts.shape != s.shape:
        raise ValueError(f"{name}: timestamps and scores must be 1-d and of equal length")
    if bool(np.any(np.isnan(s))):
        raise ValueError(f"{name}: anomaly scores contain NaN")
    try:
        rows = window_rows(ts, windows_ms)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from exc
    return _Prepared(s, sweep_values(s.size, rows, profile), rows, probation_rows(s.size))


def _in_window_mask(n_rows: int, windows: Sequence[tuple[int, int]]) -> npt.NDArray[np.bool_]:
    mask = np.zeros(n_rows, dtype=bool)
    for left, right in windows:
        mask[left : right + 1] = True
    return mask


def _events(prep: _Prepared, a_fn: float) -> tuple[FloatArray, FloatArray]:
    """(score, change of the file's total when the threshold drops to that score) pairs."""
    p = prep.probation
    outside = ~_in_window_mask(prep.scores.size, prep.windows)
    outside[:p] = False
    ev_s = [prep.scores[outside]]
    ev_d = [prep.sweep[outside]]
    for left, right in prep.windows:
        lo = max(left, p)
        if lo > right:
            continue  # wholly in probation: a constant -A_FN
        s = prep.scores[lo : right + 1]
        run_max = np.maximum.accumulate(s)
        is_record = np.ones(s.size, dtype=bool)
        is_record[1:] = s[1:] > run_max[:-1]
        rec = np.flatnonzero(is_record)
        rec_sweep = prep.sweep[lo + rec]
        # High to low threshold, records appear right to left; each one's gain is its sweep
        # minus that of the record to its right (or minus -A_FN for the rightmost).
        following = np.append(rec_sweep[1:], -a_fn)
        ev_s.append(s[rec])
        ev_d.append(rec_sweep - following)
    return np.concatenate(ev_s), np.concatenate(ev_d)


def _file_score(prep: _Prepared, threshold: float, profile: Profile) -> FileScore:
    detected = prep.scores >= threshold
    detected[: prep.probation] = False
    inside = _in_window_mask(prep.scores.size, prep.windows)
    fp_rows = detected & ~inside
    raw = float(np.sum(prep.sweep[fp_rows]))
    tp = 0
    for left, right in prep.windows:
        hits = np.flatnonzero(detected[left : right + 1])
        if hits.size:
            raw += float(prep.sweep[left + hits[0]])
            tp += 1
        else:
            raw -= profile.a_fn
    return FileScore(raw=raw, tp=tp, fp=int(np.count_nonzero(fp_rows)), fn=len(prep.windows) - tp)


def _best_threshold(preps: Sequence[_Prepared], profile: Profile) -> float:
    pairs = [_events(p, profile.a_fn) for p in preps]
    scores = np.concatenate([s for s, _ in pairs]) if pairs else np.empty(0)
    deltas = np.concatenate([d for _, d in pairs]) if pairs else np.empty(0)
    if scores.size == 0:
        return math.inf
    order = np.argsort(-scores, kind="stable")
    s_sorted = scores[order]
    cum = np.cumsum(deltas[order])
    # The total at threshold t includes every event with score >= t: the last of each group.
    last_of_group = np.flatnonzero(np.append(s_sorted[1:] != s_sorted[:-1], True))
    totals = np.concatenate(([0.0], cum[last_of_group]))
    thresholds = np.concatenate(([math.inf], s_sorted[last_of_group]))
    return float(thresholds[int(np.argmax(totals))])  # argmax: first, i.e. highest, on ties


def normalise(raw: float, windows: int, profile: Profile) -> float:
    """``100 · (raw - S_null) / (S_perfect - S_null)``; NaN when there is no window."""
    if windows == 0:
        return math.nan
    null = -windows * profile.a_fn
    perfect = windows * profile.a_tp
    return 100.0 * (raw - null) / (perfect - null)


Files = Mapping[str, tuple[npt.ArrayLike, npt.ArrayLike]]
Windows = Mapping[str, Sequence[tuple[int, int]]]


def score_corpus(
    files: Files,
    windows: Windows,
    profile: Profile = STANDARD,
    threshold: float | None = None,
) -> CorpusScore:
    """Score ``{name: (ts_ms, scores)}`` against ``{name: [(start_ms, end_ms), ...]}``.

    With ``threshold=None`` the corpus-wide best threshold is found by NAB's sweep; otherwise
    the given one is used. Every file needs an entry in ``windows`` (possibly empty); windows
    of files not in ``files`` are ignored.
    """
    missing = [name for name in files if name not in windows]
    if missing:
        raise ValueError(f"no windows entry for {missing[:3]} (use [] for a file without one)")
    preps = {
        name: _prepare(name, ts, sc, windows[name], profile) for name, (ts, sc) in files.items()
    }
    t = _best_threshold(list(preps.values()), profile) if threshold is None else threshold
    per_file = {name: _file_score(p, t, profile) for name, p in preps.items()}
    raw = sum(f.raw for f in per_file.values())
    n_windows = sum(len(p.windows) for p in preps.values())
    return CorpusScore(
        profile=profile.name,
        normalised=normalise(raw, n_windows, profile),
        raw=raw,
        threshold=t,
        per_file=per_file,
        tp=sum(f.tp for f in per_file.values()),
        fp=sum(f.fp for f in per_file.values()),
        fn=sum(f.fn for f in per_file.values()),
        windows=n_windows,
    )


def score_all_profiles(
    files: Files,
    windows: Windows,
    profiles: Mapping[str, Profile] = PROFILES,
) -> dict[str, CorpusScore]:
    """:func:`score_corpus` under each profile, each with its own best threshold (as NAB)."""
    return {name: score_corpus(files, windows, p) for name, p in profiles.items()}
