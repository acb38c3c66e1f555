"""The shared ε-search (issue 25): one monotone model per group shared by all its cells, seed racing, and
Table 2 level cells of λ-axis groups estimated between bracketing configurations. Pure: no Ray, no
training, no store.

Terms as in `suite.run.search.bisect.plan`: a *group* is one method variant searched along one axis (log λ, or log
target compression); its bounds are the spec's smallest and largest grid value; a *cell* is an ε of
Table 1 or a level of Table 2 (compression-axis groups: the levels within their bounds). A *point* is an
axis value (3 significant digits); its statistics are over the seeds measured so far: median CR, median
and mean accuracy; *full* = every seed of the spec; *broken* = most of its seeds collapsed or diverged
(its CR says nothing). tau = log(1 + tolerance).

Rule (constants in `Rules`; defaults in brackets):

1. Rounds. Dense runs every seed first, whenever the sweep has it (also with no ε cell: it is Table 2's
   reference, and its spread is part of every margin, 4). A group is judged only when none of its trials is
   pending (nor a dense one, after its first round, in which its ε cells wait); every running cell of the group is then
   judged on *all* the group's points, ε cells first, then levels in ascending order. A cell either asks
   for the missing seeds of some points (racing, 4), proposes one new point (run on the spec's first seed
   only), or stops.
2. Model. Median accuracy against u = log axis is fitted non-increasing, median log CR non-decreasing
   (isotonic regression, weights = seeds measured; broken points left out of the CR fit), both linear in u
   between points and constant beyond. A compression target is its own CR. A point measured on the first
   seed alone stands for its median through that seed plus the offset (median less first seed, in accuracy
   and in log CR) of the nearest full unbroken points below and above it, linear in u between them (one
   side: its offset; none yet: 0).
3. Next point of a cell, inside its bracket (ua, ub) (an unevaluated end is the grid bound):
   * ε cell (threshold T = dense median - ε): a = the sparsest point (CR, then accuracy) whose median
     accuracy is >= T, b = the nearest point above a that fails. Regula falsi on the fitted accuracy
     minus T gives u*; the new point is where the fitted log CR equals that at u*, kept at least tau in
     log CR from both ends' CRs; where they are at most 2 tau apart, it is 0.95 tau from the end nearer
     u* (so that either outcome resolves the cell or shrinks the bracket by about tau).
   * level cell (level L): a = the last unbroken point short of L on the axis, b = the first point above
     a that reaches L (the report's one-parameter tolerance) or is broken. The new point is where the
     fitted log CR equals log L (level_rule "measured": log L + tau/2, the middle of the measured band); a
     compression-axis group runs the target L itself; a λ-axis one, while no point reaches L and
     the upper bound is unmeasured, that bound.
   * Safeguards -> the bracket's midpoint in u (bisection): no change of sign in the expected direction
     between the ends (non-monotone), an end unknown or non-finite (unevaluated bound, collapsed point),
     a flat stretch (change < 1e-9), a step within 5% of the bracket's width from an end, the cell's last
     3 points on one side of its boundary (one-sided creep), or a snapped value (3 significant digits)
     already measured. An unevaluated grid bound within a factor `axis_resolution` [1 + tolerance / 4] of
     the bracket's measured end is itself proposed.
   * Sharing. A proposal within tau on the axis and tau/2 in fitted log CR of one made earlier in the same
     round of the same group is merged into it. A level cell of a λ-axis group whose group already has a
     proposal this round within a factor share_factor [inf: any] in fitted CR of its level waits for that
     point instead (the next round judges it on it); waiting does not count against its budget.
4. Seed racing. A new point runs one seed. Its other seeds run only when a cell would stop on it:
   * ε, one point at a time (each may make the next needless): the cell's point a; else the sparsest point
     beyond a whose accuracy is not more than the margin m below T (it could be the cell); else the failing
     end b unless its accuracy is more than m below T.
   * level: the ends it stops on (the band's point, or a and b of an estimate; a broken b excepted), and
     any reaching point whose accuracy beats the cell by more than m.
   m(x) = the largest of noise_floor [0.5 points], noise_k [3] x the dense seeds' accuracy std, and
   noise_k x the larger of the robust spread (1.4826 x the median absolute value) over the group's full
   points of the *residual* (median accuracy less the one-seed guess of rule 2, its offset taken from the
   neighbours without the point itself) and the residuals of the nearest full points below and above x. After seeds
   are added the cell is judged
   again (it may move). A cell's point always has every seed; one-seed points never enter a cell or an
   estimate. A misjudged one-seed point needs its guess off by more than m: under normal residuals of
   that spread, < 0.3% per point.
5. Stops. ε: "resolved" when CR(a) < CR(b) <= CR(a) (1 + tolerance); "axis" when b / a <= axis_resolution
   or no new point fits; "bound" when nothing above a fails and the upper bound is measured; "none" when
   nothing passes and the lower bound is measured; "budget" after `budget` [12] own proposals. The cell =
   the report's rule over full points (sparsest with median accuracy >= T).
   Level: "resolved" (measured) when a full point reaches L with CR <= L (1 + tolerance): the cell is the
   report's rule over full points (best mean accuracy among those reaching L). "estimated" (level_rule
   "interpolated" and λ-axis groups only; a compression-axis level is its own target, resolved by a full point
   in its band or by the other stops): a and b adjacent in CR among the full unbroken points (a short of L, b
   reaching it), CR(b)/CR(a) <= max_bracket [10], and one of: CR(b)/CR(a) <= (1 + tolerance)^2 ("narrow": no
   wider than two measured bands); their mean accuracies differ by at most level_acc_tol [0.5 points]
   ("flat"); or the curvature bound kappa/2 (log L - log CR(a)) (log CR(b) - log L) is at most the larger of
   level_acc_tol and |slope(a, b)| x tau, the accuracy the measured rule may lose within its band
   ("curvature"; kappa = the larger change of slope per unit log CR between (a, b) and its two neighbouring
   segments of full points, both required). The cell is the mean accuracy linear in log CR at L, marked as an
   estimate with its interval (within the two ends' means) and its bracket (a, b), unless a full point
   reaching L is more accurate (then that point, as the report would pick). "bound", "none", "axis", "budget"
   as for ε (the cell: the report's rule over full points).
6. Resume. Every decision depends only on the results of the group's points (and the dense seeds), and a
   group is judged only between complete rounds, so feeding the stored results back (`lookup`) retraces
   every round without training.
"""

from suite.run.search.shared.cells import Cell
from suite.run.search.shared.plan import DENSE, Request, SharedSearch, run_serial
from suite.run.search.shared.state import GroupState, Result, Rules

__all__ = ["Cell", "DENSE", "GroupState", "Request", "Result", "Rules", "SharedSearch", "run_serial"]
