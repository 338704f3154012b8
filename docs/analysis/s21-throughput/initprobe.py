from __future__ import annotations
from mypy_extensions import mypyc_attr


@mypyc_attr(serializable=True)
class C:
    def __init__(self, x: int = 1) -> None:
        self.x = x


@mypyc_attr(serializable=True)
class D:
    __slots__ = ("x",)

    def __init__(self, x: int = 1) -> None:
        self.x = x


class E:
    __slots__ = ("x",)

    def __init__(self, x: int = 1) -> None:
        self.x = x
