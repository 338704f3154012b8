"""s21 (hF) trial: sharedparams.expose's parameter properties written out in each class (mypyc
native classes cannot take properties added after creation over their annotated fields)."""
import re, sys
from pathlib import Path

FILES = ["processors/forecast.py", "processors/metricoutlook.py", "processors/pagehinkley.py",
         "processors/season.py", "processors/univariate.py"]


def params_fields(src: str, pname: str) -> list[str]:
    m = re.search(rf"^class {pname}\(NamedTuple\):\n(.*?)(?=^\S)", src, re.S | re.M)
    return re.findall(r"^    (\w+): ", m.group(1), re.M)


def rewrite(path: Path) -> None:
    src = path.read_text()
    lines = src.split("\n")
    for cls, pname in re.findall(r"^expose\((\w+), (\w+)\)$", src, re.M):
        fields = set(params_fields(src, pname))
        start = next(i for i, l in enumerate(lines) if re.match(rf"class {cls}\b", l))
        end = next(i for i in range(start + 1, len(lines)) if lines[i] and not lines[i][0].isspace())
        out, props, first = [], [], None
        for i in range(start, end):
            m = re.match(r"^    (\w+): (.+?)(\s+#.*)?$", lines[i])
            if m and m.group(1) in fields:
                name, typ = m.group(1), m.group(2)
                props += ["    @property", f"    def {name}(self) -> {typ}:",
                          f"        return self.p.{name}  # type: ignore[no-any-return]", "",
                          f"    @{name}.setter", f"    def {name}(self, value: {typ}) -> None:",
                          f"        self.p = shared(self.p._replace({name}=value))", ""]
                if first is None:
                    first = len(out)
                continue
            out.append(lines[i])
        assert first is not None, cls
        out[first:first] = [""] + props
        lines[start:end] = out
        lines = [l for l in lines if l != f"expose({cls}, {pname})"]
    text = "\n".join(lines)
    text = re.sub(r"from processors.sharedparams import ([^\n]*)", lambda m: "from processors.sharedparams import " + ", ".join(sorted(set([x.strip() for x in m.group(1).split(",") if x.strip() != "expose"] + ["shared"]))), text)
    path.write_text(text)


for f in FILES:
    rewrite(Path(f))
