"""The clusterer's clock: how far the stream has got, by publication time, robust to one outlet's wrong dates.

The clock closes stories (`link_days` behind it) and ages the boilerplate memory, so one page misdated a year
ahead, or a feed giving every item the wrong year, must not move it: with the latest time seen as the clock, such
a page closed every open story and the reports that followed opened them again (the ingest benchmark's F1 fell
from 0.87 to 0.55). So the clock is the latest time the *second* most advanced outlet has reached, among the
outlets that reported recently (by arrival, not by their dates): no single outlet can move it on its own. An
outlet that stops reporting stops counting after `live_arrivals` dated articles from others, so a quiet or dead
feed does not hold the clock back; a stream from one live outlet follows that outlet (nothing to compare it with).

Deterministic: it depends only on the sequence of (outlet, time) seen, never on wall time, so `restore`
rebuilds it by replaying the same articles.
"""

from __future__ import annotations

from dataclasses import dataclass, field

TOP = 3  # outlets kept ranked: the clock needs the second, one more spares a rescan when one goes quiet


@dataclass(slots=True)
class _Outlet:
    latest: float  # latest publication time it reported
    arrival: int  # arrival number of its last dated report


@dataclass
class OutletClock:
    live_arrivals: int  # an outlet counts while it reported within this many dated arrivals
    value: float | None = None  # never goes back
    _arrivals: int = 0
    _outlets: dict[str, _Outlet] = field(default_factory=dict)
    _top: list[str] = field(default_factory=list)  # live outlets with the latest times, latest first

    def see(self, outlet: str, t: float) -> float:
        """Count a dated report of `outlet` at `t`; returns the clock."""
        self._arrivals += 1
        seen = self._outlets.get(outlet)
        if seen is None:
            seen = self._outlets[outlet] = _Outlet(t, self._arrivals)
        else:
            seen.latest = max(seen.latest, t)
            seen.arrival = self._arrivals
        top = self._top
        if outlet in top or len(top) < TOP or seen.latest > self._outlets[top[-1]].latest:
            if outlet not in top:
                top.append(outlet)
            top.sort(key=lambda o: (-self._outlets[o].latest, o))
            del top[TOP:]
        if any(self._quiet(o) for o in top):
            self._rescan()
        ranked = self._top
        reached = self._outlets[ranked[1] if len(ranked) > 1 else ranked[0]].latest
        self.value = reached if self.value is None else max(self.value, reached)
        return self.value

    def _quiet(self, outlet: str) -> bool:
        return self._outlets[outlet].arrival < self._arrivals - self.live_arrivals

    def _rescan(self) -> None:
        """Forget outlets gone quiet and rank the live ones again (only when a ranked outlet went quiet)."""
        self._outlets = {o: v for o, v in self._outlets.items() if not self._quiet(o)}
        self._top = sorted(self._outlets, key=lambda o: (-self._outlets[o].latest, o))[:TOP]
