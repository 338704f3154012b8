"""The context novelty model's parameters: their tuple and the properties reading them (#14).

A base class of :class:`~processors.univariate.ContextNovelty` with its one slot ``p``: each
parameter a property read from ``p`` and set by replacing it with the shared copy
(:mod:`processors.sharedparams`). Written out, not added by ``sharedparams.expose``, so that
mypyc compiles the class as a native one (docs/throughput.md, s22); kept apart from
``processors.univariate`` for the 400-line limit.
"""

from __future__ import annotations

from typing import NamedTuple

from processors.nativeattr import mypyc_attr
from processors.sharedparams import shared


class NoveltyParams(NamedTuple):
    """A :class:`ContextNovelty`'s constant parameters: one object per configuration (#14)."""

    bins: int = 8
    order: int = 3
    warm: int = 250
    margin: float = 0.25
    bits: int = 13
    seasonal: bool = True
    history: int = 2048
    tail: int = 256
    local: int = 10
    s_lo: float = 3.0
    s_hi: float = 6.0
    eta: float = 0.01
    tail_min: int = 100
    coarse: int = 0


@mypyc_attr(serializable=True)
class NoveltyView:
    """The parameter properties of a context novelty model."""

    __slots__ = ("p",)
    p: NoveltyParams

    # the parameters, read from ``p`` and set by replacing it with the shared copy
    # (processors.sharedparams; written out, not added by ``expose``: a mypyc class, s22)
    @property
    def bins(self) -> int:
        return self.p.bins

    @bins.setter
    def bins(self, value: int) -> None:
        base = self.p if hasattr(self, "p") else NoveltyParams()
        self.p = shared(base._replace(bins=value))

    @property
    def order(self) -> int:
        return self.p.order

    @order.setter
    def order(self, value: int) -> None:
        base = self.p if hasattr(self, "p") else NoveltyParams()
        self.p = shared(base._replace(order=value))

    @property
    def warm(self) -> int:
        return self.p.warm

    @warm.setter
    def warm(self, value: int) -> None:
        base = self.p if hasattr(self, "p") else NoveltyParams()
        self.p = shared(base._replace(warm=value))

    @property
    def margin(self) -> float:
        return self.p.margin

    @margin.setter
    def margin(self, value: float) -> None:
        base = self.p if hasattr(self, "p") else NoveltyParams()
        self.p = shared(base._replace(margin=value))

    @property
    def bits(self) -> int:
        return self.p.bits

    @bits.setter
    def bits(self, value: int) -> None:
        base = self.p if hasattr(self, "p") else NoveltyParams()
        self.p = shared(base._replace(bits=value))

    @property
    def seasonal(self) -> bool:
        return self.p.seasonal

    @seasonal.setter
    def seasonal(self, value: bool) -> None:
        base = self.p if hasattr(self, "p") else NoveltyParams()
        self.p = shared(base._replace(seasonal=value))

    @property
    def history(self) -> int:
        return self.p.history

    @history.setter
    def history(self, value: int) -> None:
        base = self.p if hasattr(self, "p") else NoveltyParams()
        self.p = shared(base._replace(history=value))

    @property
    def tail(self) -> int:
        return self.p.tail

    @tail.setter
    def tail(self, value: int) -> None:
        base = self.p if hasattr(self, "p") else NoveltyParams()
        self.p = shared(base._replace(tail=value))

    @property
    def local(self) -> int:
        return self.p.local

    @local.setter
    def local(self, value: int) -> None:
        base = self.p if hasattr(self, "p") else NoveltyParams()
        self.p = shared(base._replace(local=value))

    @property
    def s_lo(self) -> float:
        return self.p.s_lo

    @s_lo.setter
    def s_lo(self, value: float) -> None:
        base = self.p if hasattr(self, "p") else NoveltyParams()
        self.p = shared(base._replace(s_lo=value))

    @property
    def s_hi(self) -> float:
        return self.p.s_hi

    @s_hi.setter
    def s_hi(self, value: float) -> None:
        base = self.p if hasattr(self, "p") else NoveltyParams()
        self.p = shared(base._replace(s_hi=value))

    @property
    def eta(self) -> float:
        return self.p.eta

    @eta.setter
    def eta(self, value: float) -> None:
        base = self.p if hasattr(self, "p") else NoveltyParams()
        self.p = shared(base._replace(eta=value))

    @property
    def tail_min(self) -> int:
        return self.p.tail_min

    @tail_min.setter
    def tail_min(self, value: int) -> None:
        base = self.p if hasattr(self, "p") else NoveltyParams()
        self.p = shared(base._replace(tail_min=value))

    @property
    def coarse(self) -> int:
        return self.p.coarse

    @coarse.setter
    def coarse(self, value: int) -> None:
        base = self.p if hasattr(self, "p") else NoveltyParams()
        self.p = shared(base._replace(coarse=value))
