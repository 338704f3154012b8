"""The trend forecasters' parameters: their tuples and the properties reading them (#14).

A base class of :class:`~processors.forecast.TrendForecaster` with its one slot ``p``: each
parameter a property read from ``p`` and set by replacing it with the shared copy
(:mod:`processors.sharedparams`). Written out, not added by ``sharedparams.expose``, so that
mypyc compiles the class as a native one (docs/throughput.md, s22); kept apart from
``processors.forecast`` for the 400-line limit.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from processors.nativeattr import mypyc_attr
from processors.sharedparams import shared

Z_95 = 1.959963984540054  # two-sided 95 % normal quantile


class TrendParams(NamedTuple):
    """A :class:`TrendForecaster`'s constant parameters, one object per configuration (#14:
    :mod:`processors.sharedparams`)."""

    k: int = 10
    min_points: int = 4
    z: float = Z_95
    min_std_abs: float = 1e-9
    min_std_rel: float = 0.005


class SeasonalParams(NamedTuple):
    """A :class:`SeasonalTrendForecaster`'s: :class:`TrendParams`' and its own."""

    k: int = 10
    min_points: int = 4
    z: float = Z_95
    min_std_abs: float = 1e-9
    min_std_rel: float = 0.005
    step_s: int = 60
    block: int = 8
    capacity: int = 256
    min_acf: float = 0.5


@mypyc_attr(serializable=True)
class TrendView:
    """The parameter properties of a trend forecaster (``p``: a :class:`TrendParams`, or a
    :class:`SeasonalParams` in the seasonal subclass)."""

    __slots__ = ("p",)
    p: Any

    def _blank(self) -> Any:
        return TrendParams()

    # the parameters, read from ``p`` and set by replacing it with the shared copy
    # (processors.sharedparams; written out, not added by ``expose``: a mypyc class, s22)
    @property
    def k(self) -> int:
        return self.p.k  # type: ignore[no-any-return]

    @k.setter
    def k(self, value: int) -> None:
        base = self.p if hasattr(self, "p") else self._blank()
        self.p = shared(base._replace(k=value))

    @property
    def min_points(self) -> int:
        return self.p.min_points  # type: ignore[no-any-return]

    @min_points.setter
    def min_points(self, value: int) -> None:
        base = self.p if hasattr(self, "p") else self._blank()
        self.p = shared(base._replace(min_points=value))

    @property
    def z(self) -> float:
        return self.p.z  # type: ignore[no-any-return]

    @z.setter
    def z(self, value: float) -> None:
        base = self.p if hasattr(self, "p") else self._blank()
        self.p = shared(base._replace(z=value))

    @property
    def min_std_abs(self) -> float:
        return self.p.min_std_abs  # type: ignore[no-any-return]

    @min_std_abs.setter
    def min_std_abs(self, value: float) -> None:
        base = self.p if hasattr(self, "p") else self._blank()
        self.p = shared(base._replace(min_std_abs=value))

    @property
    def min_std_rel(self) -> float:
        return self.p.min_std_rel  # type: ignore[no-any-return]

    @min_std_rel.setter
    def min_std_rel(self, value: float) -> None:
        base = self.p if hasattr(self, "p") else self._blank()
        self.p = shared(base._replace(min_std_rel=value))
