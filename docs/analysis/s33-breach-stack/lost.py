"""The breaches a run foretells at 5 minutes that another does not, and why (s33, issue #15):
``python lost.py BASE NEW [SCENARIO ...]`` (``diag13.py`` runs of one seed; default: every
scenario in both). Per breach foretold in BASE only: BASE's windows that foretold it (risk at
or over the alarm point within [breach − horizon, breach − 5 min]), each with NEW's risk there
and the alarm's evidence that differs (``context``: ``context_lasting``; a forecast's ``breach``
or ``growth`` gone: ``morning_eta``) and whether BASE's risk was ``cascade_page``'s floor (the
alarm point exactly: a parent paged; ``page_growth`` delaying the parent's page lifts it)."""
import glob
import os
import pickle
import sys

THR, H_MS, LEAD_MS = 1 / 3, 900_000, 300_000


def rows(d: str, name: str) -> tuple[dict, list, int]:
    p = pickle.load(open(os.path.join(d, name + ".pkl"), "rb"))
    by: dict = {}
    for r in p["rows"]:
        by.setdefault(r[0], []).append(r)
    return by, p["breaches"], min(r[1] for r in p["rows"])


def foretold(rs: list, b: int) -> list:
    return [r for r in rs if b - H_MS <= r[1] <= b - LEAD_MS and r[2] >= THR]


def main(base: str, new: str, names: list[str]) -> None:
    if not names:
        have = {os.path.basename(p)[:-4] for p in glob.glob(os.path.join(new, "*.pkl"))}
        names = sorted(n for n in have if os.path.exists(os.path.join(base, n + ".pkl")))
    for name in names:
        bb, breaches, t0 = rows(base, name)
        nn, _, _ = rows(new, name)
        for br in breaches:
            b = br.breach_ms
            fb = foretold(bb.get(br.component, []), b)
            if not fb or foretold(nn.get(br.component, []), b):
                continue
            print(f"{name} {br.component} {br.metric} breach min {(b - t0) / 60000:.1f}: "
                  f"{len(fb)} window(s) foretold it in BASE, none in NEW")
            new_at = {r[1]: r for r in nn.get(br.component, [])}
            for r in fb:
                m = new_at.get(r[1])
                ev = {k: (round(v, 3), round(m[4].get(k, 0.0), 3)) for k, v in r[4].items()
                      if m is not None and abs(v - m[4].get(k, 0.0)) > 1e-9}
                floor = " floor" if abs(r[2] - THR) < 1e-12 else ""
                print(f"    min {(r[1] - t0) / 60000:7.1f} risk {r[2]:.3f}{floor} -> "
                      f"{m[2] if m is None else round(m[2], 3)}  evidence base->new {ev}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
