"""Each image's nearest images and each group's medoid."""

import numpy as np
from panelmatch import nearest


def test_neighbours_are_nearest_first_in_both_directions():
    # pairs: 0-1 d5, 0-2 d3, 1-2 d9, 2-3 d3
    img, rank, nb, pair = nearest.neighbours(5, [0, 0, 1, 2], [1, 2, 2, 3], [5, 3, 9, 3], k=2)
    got = list(zip(img.tolist(), rank.tolist(), nb.tolist(), strict=True))
    assert got == [(0, 1, 2), (0, 2, 1), (1, 1, 0), (1, 2, 2), (2, 1, 0), (2, 2, 3), (3, 1, 2)]
    assert pair.tolist() == [1, 0, 0, 2, 1, 3, 3]


def test_medoid_is_the_most_central_member():
    labels = np.array([0, 0, 0, 1, 1, 2])
    # group 0: 1 is close to both others; group 1: tie -> lower index; 2 is a singleton
    med = nearest.medoids(labels, [0, 1, 0, 3], [1, 2, 2, 4], [2, 2, 10, 7], missing=100)
    assert med.tolist() == [False, True, False, True, False, True]
