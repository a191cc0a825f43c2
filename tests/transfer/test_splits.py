"""Target-class subsets and the balanced, nested labelled / validation samples."""

from __future__ import annotations

import numpy as np
import pytest

from dlcc.errors import ConfigError
from dlcc.transfer import class_subset, labelled_split


def test_class_subset_relabels_in_the_given_order():
    x = np.arange(10)
    y = np.array([0, 5, 6, 9, 5, 1, 9, 6, 2, 5])
    xs, ys = class_subset(x, y, [9, 5, 6])
    assert xs.tolist() == [1, 2, 3, 4, 6, 7, 9] and ys.tolist() == [1, 2, 0, 1, 0, 2, 1]


def test_labelled_split_is_balanced_disjoint_and_nested():
    y = np.repeat(np.arange(5), 40)
    lab100, val = labelled_split(y, 100, 50, seed=3)
    lab60, val2 = labelled_split(y, 62, 50, seed=3)
    assert np.bincount(y[lab100]).tolist() == [20] * 5 and np.bincount(y[val]).tolist() == [10] * 5
    assert np.bincount(y[lab60]).tolist() == [13, 13, 12, 12, 12]
    assert not set(lab100) & set(val) and np.array_equal(val, val2) and set(lab60) <= set(lab100)


@pytest.mark.parametrize("labels, val, message", [(151, 50, "needs 41 examples of each class"),
                                                   (3, 10, "fewer than the 5 target classes")])
def test_impossible_requests_name_the_limit(labels, val, message):
    with pytest.raises(ConfigError, match=message) as err:
        labelled_split(np.repeat(np.arange(5), 40), labels, val)
    if "needs" in message:
        assert err.value.fix.startswith("--set transfer.labels=150 or less")
