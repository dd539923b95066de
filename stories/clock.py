"""The clusterer's clock: how far the stream has got, by publication time, robust to wrong dates and to a backlog
that arrives out of time order.

The clock closes stories (`link_days` behind it) and ages the boilerplate memory and young stories. Two kinds of
stream must not move it ahead:
- one page misdated a year ahead, or a feed giving every item the wrong year: with the latest time seen as the
  clock, such a page closed every open story and the reports that followed opened them again (the ingest
  benchmark's F1 fell from 0.87 to 0.55). So the clock follows the *front*: the latest time the second most
  advanced outlet has reached, among the outlets that reported recently (by arrival, not by their dates); no single
  outlet moves it on its own. An outlet that stops reporting stops counting after `live_arrivals` dated articles
  from others; a stream from one live outlet follows that outlet.
- a backlog read in one pass (the first pass over many feeds): hosts answer in any order and an outlet's feeds are
  read one after the other, so the pass sweeps through the archive's dates more than once, and the front runs to
  the newest news within the first sweep. stories-2.3's clock was the front alone: it closed the stories of older
  events before their other outlets' reports arrived (BASIL through `newsmon run` without the seed reports, whose
  2026 dates had frozen that clock in the benchmark, held out: recall 0.59-0.72 on 3 or 100 outlets; stories/README.md,
  "The clock of a backlog"). So the clock is also held within `lead` (the clusterer's `link_days`) of the earliest
  time among the last `live_arrivals` dated reports (stories-2.6): a story one of them reported stays indexed.
In a stream that arrives in time order the last 500 reports span less than `link_days` and the clock is the
front, as in stories-2.3; a sparse one (fewer than 500 reports in 30 days) keeps stories longer, within the
window's caps. The clock never goes back.

Deterministic: it depends only on the sequence of (outlet, time) seen, never on wall time, so `restore` rebuilds it
by replaying the same articles.
"""

from __future__ import annotations

from collections import deque
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
        reached = self.front()
        assert reached is not None
        self.value = reached if self.value is None else max(self.value, reached)
        return self.value

    def front(self) -> float | None:
        """The latest time of the second most advanced live outlet (of the only one, when one): what the reports
        seen say now, before the clock's "never goes back"."""
        ranked = self._top
        return self._outlets[ranked[1] if len(ranked) > 1 else ranked[0]].latest if ranked else None

    def _quiet(self, outlet: str) -> bool:
        return self._outlets[outlet].arrival < self._arrivals - self.live_arrivals

    def _rescan(self) -> None:
        """Forget outlets gone quiet and rank the live ones again (only when a ranked outlet went quiet)."""
        self._outlets = {o: v for o, v in self._outlets.items() if not self._quiet(o)}
        self._top = sorted(self._outlets, key=lambda o: (-self._outlets[o].latest, o))[:TOP]


@dataclass
class StreamClock:
    """The front (`OutletClock`), held within `lead` seconds of the earliest of the last `live_arrivals` reports."""

    live_arrivals: int
    lead: float
    value: float | None = None  # never goes back
    _front: OutletClock = field(init=False)
    _seen: int = 0
    # (time, arrival number) of the reports that may still be the earliest of the last `live_arrivals`: ascending.
    _earliest: deque[tuple[float, int]] = field(default_factory=deque)

    def __post_init__(self) -> None:
        self._front = OutletClock(self.live_arrivals)

    def see(self, outlet: str, t: float) -> float:
        """Count a dated report of `outlet` at `t`; returns the clock."""
        front = self._front.see(outlet, t)
        self._seen += 1
        queue = self._earliest
        while queue and queue[-1][0] >= t:
            queue.pop()  # never the earliest again while this later-arriving, earlier-or-equal report is recent
        queue.append((t, self._seen))
        while queue[0][1] <= self._seen - self.live_arrivals:
            queue.popleft()
        reached = min(front, queue[0][0] + self.lead)
        self.value = reached if self.value is None else max(self.value, reached)
        return self.value

    def reading(self) -> float | None:
        """The front now, held within `lead` of the earliest of the last reports: what the reports seen say, without
        the clock's past. A restore reads it after replaying the last reports (`stories.replayed_clock`): there the
        past is the replay's own first reports, which say less than the stream before them did (its first, alone,
        would be the front)."""
        front = self._front.front()
        return None if front is None else min(front, self._earliest[0][0] + self.lead)
