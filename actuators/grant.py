"""The engine's high-risk policies: grant, renew, preempt (and defer, hold out).

- :class:`Grant` — while a component's risk is at or over its alarm point: renew the lease it
  holds on the first candidate resource (:class:`Renew`), else GRANT the first candidate that
  is cooled down, fits the host's pool and is not held out; when none fits, PREEMPT
  lower-priority leases (:class:`Preempt`) when the component is critical enough, else DEFER.
- :class:`Renew` — a held lease grows into free capacity when the sizing asks for more, or is
  extended when less than half its term is left.
- :class:`Preempt` — the fewest lowest-priority leases of less critical components that free
  what is missing, each ended with a PREEMPT and an engine outcome PREEMPTED.

All of them act on the engine's :class:`~actuators.books.Books`; the knobs are in
``docs/allocation.md``.
"""

from __future__ import annotations

from actuators.books import EPS, Books, Decision, Record, priority
from actuators.pool import Lease


class Renew:
    """Grow or extend a lease the component holds while its risk stays high."""

    def __init__(self, books: Books) -> None:
        self.books = books

    def __call__(self, d: Decision, lease: Lease, metric: str) -> list[Record]:
        books, cfg, comp = self.books, self.books.config, d.comp
        target = books.sizer.renewal(lease, d.risk, metric, d.pref)
        grows = (target - lease.amount >= cfg.resources[lease.resource].min_amount - EPS
                 and books.may_change(comp, d.now))
        ending = lease.end_ms - d.now <= cfg.lease_s * 500
        if not grows and not ending:
            return []
        amount = target if grows else lease.amount
        verb = f"grow {lease.amount:g} -> {amount:g} {lease.unit}" if grows else "extend lease"
        reason = f"risk {comp.risk:.2f} still >= {cfg.risk_threshold:g} on {metric}: {verb}"
        return [books.reterm(lease, amount, d, reason, stepped=lease.stepped and not grows,
                             counts=grows)]


class Preempt:
    """Free room on a host's pool by ending leases of less critical components."""

    def __init__(self, books: Books) -> None:
        self.books = books

    def victims(self, host: str, resource: str, short: float, criticality: int,
                now: int) -> list[Lease] | None:
        """The fewest lowest-priority leases of less critical components that free ``short``;
        None when even all of them would not."""
        books, eligible = self.books, []
        for lease in books.pool.on_slot(host, resource):
            p = books.prefs.resolve(lease.component)
            if p.paused or p.criticality >= criticality or lease.amount <= 0:
                continue
            if now - lease.granted_ms < books.config.cooldown_s * 1000:
                continue
            eligible.append((priority(p.criticality, lease.risk), lease.granted_ms, lease))
        eligible.sort(key=lambda e: (e[0], e[1], e[2].component))
        chosen, freed = [], 0.0
        for _, _, lease in eligible:
            if freed >= short - EPS:
                break
            chosen.append(lease)
            freed += lease.amount
        return chosen if freed >= short - EPS else None

    def __call__(self, victim: Lease, d: Decision) -> Record:
        books = self.books
        books.end(victim, d.now)
        reason = f"preempted for {d.component}, more critical"
        books.outcome(victim.command_id, victim.component, d.now, "PREEMPTED", reason)
        return books.command(victim, "PREEMPT", victim.amount, f"{d.component}@{d.ts}", reason,
                             books.prefs.resolve(victim.component), 0)


class Grant:
    """Act on a high risk: renew, grant, preempt for, or defer (see the module docstring)."""

    def __init__(self, books: Books) -> None:
        self.books = books
        self.renew = Renew(books)
        self.preempt = Preempt(books)

    def __call__(self, d: Decision) -> list[Record]:
        books = self.books
        candidates = books.feedback.order(d.component, d.ts,
                                          books.sizer.candidates(d.risk, d.pref, d.host))
        for resource, metric in candidates:
            held = books.pool.get(d.component, resource)
            if held is None:
                continue
            if not books.cooled(d.comp, resource, d.now):
                return []
            return self.renew(d, held, metric)
        ready = [(r, m) for r, m in candidates if books.cooled(d.comp, r, d.now)]
        if not ready or self.held_out(d, ready[0][0]):
            return []
        if not books.may_change(d.comp, d.now):
            books.defer(d.component, ready[0][0], d.ts, d.now,
                        f"{books.config.max_changes_per_hour} changes in the last hour already")
            return []
        sized = [(r, m, books.sizer.new_amount(r, m, d.risk, d.pref, d.host)) for r, m in ready]
        for resource, metric, amount in sized:
            if books.pool.fits(d.host, resource, amount):
                return [self.grant(d, resource, metric, amount)]
        return self.make_room(d, *sized[0])

    def make_room(self, d: Decision, resource: str, metric: str, amount: float) -> list[Record]:
        """Preempt for the first candidate when the component may, else defer it."""
        books = self.books
        free = books.pool.free(d.host, resource)
        if d.pref.criticality >= books.config.preempt_criticality:
            victims = self.preempt.victims(d.host, resource, amount - free, d.pref.criticality,
                                           d.now)
            if victims is not None:
                out = [self.preempt(v, d) for v in victims]
                out.append(self.grant(d, resource, metric, amount))
                return out
        books.defer(d.component, resource, d.ts, d.now,
                    f"{d.host} {resource} pool has {free:g} free of the {amount:g} needed")
        return []

    def grant(self, d: Decision, resource: str, metric: str, amount: float) -> Record:
        reason = (f"risk {d.comp.risk:.2f} >= {self.books.config.risk_threshold:g} on {metric} "
                  f"(pressure {self.books.sizer.pressure(d.risk, metric):.2f})")
        return self.books.open(d, resource, metric, amount, reason)

    def held_out(self, d: Decision, resource: str) -> bool:
        """Whether a would-be grant is withheld: a holdout starts by a hash of (component, ts)
        and lasts the risk's horizon; the most critical components, and risks over
        ``holdout_max_risk`` (confident predictions, even during a holdout), are never held out."""
        books, cfg, comp = self.books, self.books.config, d.comp
        if d.pref.criticality >= cfg.preempt_criticality or comp.risk > cfg.holdout_max_risk:
            return False
        if comp.holdout_until_ms is not None and d.now < comp.holdout_until_ms:
            return True
        if not books.feedback.holdout(d.component, d.ts):
            return False
        comp.holdout_until_ms = d.now + int(d.risk.get("horizon_s") or 0) * 1000
        books.defer(d.component, resource, d.ts, d.now,
                    f"holdout: not acted on until {comp.holdout_until_ms}, to measure what "
                    f"happens without a grant ({cfg.holdout:g} of would-be grants)")
        return True
