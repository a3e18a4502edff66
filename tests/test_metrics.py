"""Tests of the evaluation of several clusterings against several ground-truth labelings (ENRC §3.3)."""

import numpy as np
import pytest
from clustpy.metrics.external import MultipleLabelingsConfusionMatrix, variation_of_information
from sklearn.metrics import normalized_mutual_info_score

from clustpy_acedec.metrics import average_variation_of_information, best_match_nmi, one_to_one_nmi

LN3 = np.log(3.0)


@pytest.fixture(scope="module")
def stickfigures():
    """The two ground-truth labelings of clustpy's stickfigures (upper body / lower body, 3 x 3 poses, every
    combination 100 times): two independent, balanced 3-cluster labelings."""
    from clustpy.data import load_stickfigures
    X, labels = load_stickfigures(return_X_y=True)
    assert X.shape == (900, 400) and labels.shape == (900, 2)
    return labels


@pytest.fixture(scope="module")
def random_labels():
    return np.random.RandomState(0).randint(0, 3, 900)


# ------------------------------------------------------------------------------------------ variation of information

def test_avi_of_the_stickfigures_ground_truth_is_2_ln_3(stickfigures):
    avi = average_variation_of_information(stickfigures)
    assert avi == pytest.approx(2.0 * LN3, abs=1e-12)
    assert avi == pytest.approx(2.1972, abs=1e-4)
    assert round(avi, 2) == 2.20  # ENRC Table 3, a perfect result on stickfigures


def test_avi_matches_clustpys_confusion_matrix_aggregation(stickfigures, random_labels):
    labels = np.column_stack([stickfigures, random_labels])
    expected = MultipleLabelingsConfusionMatrix(labels, labels, metric=variation_of_information).aggregate("mean_wo_diag")
    assert average_variation_of_information(labels) == pytest.approx(expected, rel=1e-12)


def test_avi_averages_over_all_pairs(stickfigures):
    a, b = stickfigures[:, 0], stickfigures[:, 1]
    assert average_variation_of_information(np.column_stack([a, a])) == pytest.approx(0.0, abs=1e-12)
    # pairs (a, b), (a, a), (b, a): VI = 2 ln 3, 0, 2 ln 3
    assert average_variation_of_information(np.column_stack([a, b, a])) == pytest.approx(4.0 / 3.0 * LN3, abs=1e-12)
    # a relabelled copy is the same partition
    assert average_variation_of_information(np.column_stack([a, (a + 1) % 3])) == pytest.approx(0.0, abs=1e-12)


def test_avi_excludes_single_cluster_spaces(stickfigures):
    with_noise_spaces = np.column_stack([np.zeros(900, dtype=int), stickfigures, np.full(900, 7)])
    assert average_variation_of_information(with_noise_spaces) == pytest.approx(2.0 * LN3, abs=1e-12)


@pytest.mark.parametrize("make", [
    lambda gt: gt[:, :1],  # one clustering
    lambda gt: gt[:, 0],  # one clustering, 1-D
    lambda gt: np.column_stack([gt[:, 0], np.zeros(900, dtype=int)]),  # one informative + a noise space
    lambda gt: np.zeros((900, 3), dtype=int),  # no informative clustering
])
def test_avi_needs_two_informative_clusterings(stickfigures, make):
    with pytest.raises(ValueError, match="at least two clusterings"):
        average_variation_of_information(make(stickfigures))


# ------------------------------------------------------------------------------------------ best-match NMI

def test_best_match_nmi_finds_swapped_columns(stickfigures):
    scores = best_match_nmi(stickfigures, stickfigures[:, ::-1])
    assert scores.shape == (2,)
    np.testing.assert_allclose(scores, [1.0, 1.0])
    # among extra clusterings, the best one counts
    found = np.column_stack([np.random.RandomState(1).randint(0, 4, 900), stickfigures[:, 1], stickfigures[:, 0]])
    np.testing.assert_allclose(best_match_nmi(stickfigures, found), [1.0, 1.0])


def test_best_match_nmi_against_random_labels_is_low(stickfigures, random_labels):
    scores = best_match_nmi(stickfigures, random_labels)
    assert scores.shape == (2,)
    assert (scores < 0.02).all()
    expected = [normalized_mutual_info_score(stickfigures[:, g], random_labels) for g in range(2)]
    np.testing.assert_allclose(scores, expected)


def test_best_match_nmi_is_the_maximum_per_ground_truth(stickfigures, random_labels):
    a, b = stickfigures[:, 0], stickfigures[:, 1]
    mixed = np.where(np.arange(900) < 450, a, random_labels)  # half informative about a
    found = np.column_stack([mixed, random_labels])
    expected = [max(normalized_mutual_info_score(a, mixed), normalized_mutual_info_score(a, random_labels)),
                max(normalized_mutual_info_score(b, mixed), normalized_mutual_info_score(b, random_labels))]
    np.testing.assert_allclose(best_match_nmi(stickfigures, found), expected)
    assert 0.1 < expected[0] < 0.9
    # 1-D inputs: one ground truth, one clustering
    np.testing.assert_allclose(best_match_nmi(a, mixed), [normalized_mutual_info_score(a, mixed)])


# ------------------------------------------------------------------------------------------ one-to-one NMI

def test_one_to_one_nmi_of_identical_labelings_is_one(stickfigures):
    assert one_to_one_nmi(stickfigures, stickfigures) == pytest.approx(1.0)
    assert one_to_one_nmi(stickfigures, stickfigures[:, ::-1]) == pytest.approx(1.0)
    assert one_to_one_nmi(stickfigures[:, 0], stickfigures[:, 0]) == pytest.approx(1.0)


def test_one_to_one_nmi_does_not_reuse_a_found_clustering(stickfigures, random_labels):
    a = stickfigures[:, 0]
    ground_truth = np.column_stack([a, (a + 1) % 3])  # the same partition twice
    found = np.column_stack([a, random_labels])
    # best match uses column 0 for both ground truths ...
    np.testing.assert_allclose(best_match_nmi(ground_truth, found), [1.0, 1.0])
    # ... one-to-one has to give the second ground truth the random clustering
    expected = (1.0 + normalized_mutual_info_score(a, random_labels)) / 2.0
    assert one_to_one_nmi(ground_truth, found) == pytest.approx(expected)
    assert one_to_one_nmi(ground_truth, found) < 0.51
    # with a single found clustering the second ground truth gets nothing
    np.testing.assert_allclose(best_match_nmi(ground_truth, a), [1.0, 1.0])
    assert one_to_one_nmi(ground_truth, a) == pytest.approx(0.5)


def test_labels_of_any_kind_and_bad_shapes():
    """Labels are codes of any type (strings too); what is not one or more labelings of the same samples is a
    ValueError naming the argument."""
    truth = np.array([[0, 0], [0, 1], [1, 0], [1, 1]] * 5)
    words = np.where(truth == 0, "a", "b")
    assert one_to_one_nmi(truth, words) == pytest.approx(1.0)
    np.testing.assert_allclose(best_match_nmi(words, truth), [1.0, 1.0])
    assert average_variation_of_information(words) == pytest.approx(average_variation_of_information(truth))
    for call, message in ((lambda: best_match_nmi(3, 3), "labels_true must have shape"),
                          (lambda: average_variation_of_information(3), "labels_pred must have shape"),
                          (lambda: one_to_one_nmi(truth, np.zeros((20, 0))), "labels_pred must have shape"),
                          (lambda: best_match_nmi(truth, truth[:5]), "the same samples")):
        with pytest.raises(ValueError, match=message):
            call()


def test_negative_integer_labels_stay_outliers_for_clustpy():
    """clustpy reads negative labels as outliers (a labeling of one cluster plus outliers is a noise space):
    integer labels reach it as they are."""
    rng = np.random.default_rng(0)
    truth = np.stack([rng.integers(0, 3, 200), rng.integers(0, 2, 200), np.where(rng.random(200) < 0.2, -1, 0)], 1)
    expected = MultipleLabelingsConfusionMatrix(truth, truth[:, :2]).aggregate("permut-max")
    assert one_to_one_nmi(truth, truth[:, :2]) == pytest.approx(expected)
