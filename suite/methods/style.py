"""How a method's curves look in figures: colour, marker, line style.

Colours are hex strings so that method modules need no plotting library.
`COLORBLIND` is seaborn's "colorblind" palette (10 colours) written out, so a
method looks the same in every figure whichever subset of methods a sweep ran.
"""

from __future__ import annotations

from dataclasses import dataclass

# seaborn.color_palette("colorblind", 10), as hex.
COLORBLIND = ("#0173b2", "#de8f05", "#029e73", "#d55e00", "#cc78bc",
              "#ca9161", "#fbafe4", "#949494", "#ece133", "#56b4e9")
# Two dark colours of Paul Tol's colour-blind-safe "muted" scheme, for the
# methods whose palette colours (light pink, yellow) vanish in print.
TOL_WINE = "#882255"
TOL_INDIGO = "#332288"
# More of that scheme, so that GMP, its one-shot form, SNIP and PILoT keep apart from DWF's orange
# and from each other in print (the paper's figures crowd them into CR 1e2-1e3).
TOL_ROSE = "#cc6677"
TOL_OLIVE = "#999933"
TOL_TEAL = "#44aa99"


@dataclass(frozen=True)
class PlotStyle:
    """Keyword arguments of a matplotlib line: colour (hex), marker, line style."""

    color: str
    marker: str
    linestyle: str = "-"

    def dashed(self) -> PlotStyle:
        """The same colour and marker, dashed: a post-hoc variant of the method."""
        return PlotStyle(self.color, self.marker, "--")

    def as_kwargs(self) -> dict:
        return {"color": self.color, "marker": self.marker, "linestyle": self.linestyle}
