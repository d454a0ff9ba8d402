"""The checks that apply to any grid, e.g. a study of your own function: no trained network
below a floor of theory on its test points (a bug if one is), with the power check that says
whether the nets came near enough to their floors for that to be evidence."""

import pandas as pd

from uat.theory.checks.common import floor_check, ok_rows, reach_floor
from uat.theory.verdict import Check

NEAR = 1.5  # "near" a floor: within this factor (as for separation's nets)
REACH = 0.05  # ... for at least this share of the runs that have a floor


def checks(joined: pd.DataFrame) -> list[Check]:
    power = reach_floor(ok_rows(joined), check="nets-reach-their-floor",
                        who="trained nets with a floor", near=NEAR, share=REACH)
    return [floor_check(joined, power, "on this grid's own test points"), power]
