"""What mathematics says: exact floors, achievable ceilings, width thresholds, and verdicts.

One subpackage for the theory side of uat (docs/theory.md states every theorem and oracle):

* `oracles`: closed-form and exactly computable floors (affine, polynomial, isotonic, the sup
  floors of narrow nets, Barron's bound);
* `pl`: piecewise-linear floors and ceilings of ReLU-type nets (free-knot dynamic programming);
* `widths`: the minimum-width theorems as records;
* `predict`: which oracles apply to a shape, from the activation's facts;
* `table`: the per-study theory table every figure and verdict joins with the runs;
* `verdict` and `checks`: each theorem's verdict as a list of checks on the trained table.

The oracles are re-exported here (`uat.theory.poly_floor`, ...); `table`, `verdict` and
`checks` need pandas and are imported by name.
"""

from uat.theory.oracles import (
    affine_floor,
    barron_bound,
    barron_constant,
    check_inputs,
    isotonic_floor,
    monotone_sup_floor,
    poly_floor,
    poly_net_degree,
    poly_sup_floor,
    sup_floor_narrow,
)
from uat.theory.pl import (
    SawtoothFloor,
    check_sample,
    clamp_floor,
    free_knot_ceiling,
    free_knot_floor,
    free_knot_floors,
    ramp_floor,
    relu_max_pieces,
    shallow_regions,
    telgarsky_sawtooth_floor,
    uniform_knot_ceiling,
)
from uat.theory.predict import Prediction, predict
from uat.theory.widths import MIN_WIDTH, WidthBounds, WidthResult, min_width, min_width_bounds

__all__ = [
    "MIN_WIDTH", "Prediction", "SawtoothFloor", "WidthBounds", "WidthResult", "affine_floor",
    "barron_bound", "barron_constant", "check_inputs", "check_sample", "clamp_floor",
    "free_knot_ceiling", "free_knot_floor", "free_knot_floors", "isotonic_floor", "min_width",
    "min_width_bounds", "monotone_sup_floor", "poly_floor", "poly_net_degree", "poly_sup_floor",
    "predict", "ramp_floor", "relu_max_pieces", "shallow_regions", "sup_floor_narrow",
    "telgarsky_sawtooth_floor", "uniform_knot_ceiling",
]
