import numpy as np
import pytest

from enrich.arrays import distinct


@pytest.mark.parametrize("size", [0, 1, 2, 17, 5000])
def test_distinct_is_numpys_unique(size):
    rng = np.random.default_rng(size)
    values = rng.integers(-50, 50 if size < 100 else 10**12, size)
    out = distinct(values)
    assert out.dtype == values.dtype
    assert np.array_equal(out, np.unique(values))


def test_distinct_of_a_list_and_of_repeats():
    assert distinct([3, 1, 3, 3, 2]).tolist() == [1, 2, 3]
    assert distinct(np.full(4, 7)).tolist() == [7]
