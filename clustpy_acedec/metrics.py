"""
Evaluation of several clusterings against several ground-truth labelings (ENRC §3.3), with clustpy's metrics.
"""

import itertools

import numpy as np
from numpy.typing import ArrayLike
from sklearn.metrics import normalized_mutual_info_score


def _as_columns(labels, name: str) -> np.ndarray:
    """Labels as (n_samples, n_labelings): one labeling per column, at least one sample and one column."""
    labels = np.asarray(labels)
    if labels.ndim not in (1, 2) or labels.size == 0:
        raise ValueError(f"{name} must have shape (n_samples,) or (n_samples, n_labelings) with at least one "
                         f"sample and labeling, got shape {labels.shape}")
    labels = labels.reshape(len(labels), 1) if labels.ndim == 1 else labels
    if np.issubdtype(labels.dtype, np.integer):  # as they are: clustpy reads negative labels as outliers
        return labels
    # labels of another kind (strings, floats) as codes 0, 1, ... per labeling: clustpy's confusion matrix needs
    # integers
    return np.stack([np.unique(labels[:, s], return_inverse=True)[1].reshape(-1) for s in range(labels.shape[1])],
                    axis=1)


def _pair(labels_true, labels_pred) -> tuple:
    """Both labelings as columns, of the same samples."""
    labels_true, labels_pred = _as_columns(labels_true, "labels_true"), _as_columns(labels_pred, "labels_pred")
    if len(labels_true) != len(labels_pred):
        raise ValueError(f"labels_true and labels_pred must label the same samples, got {len(labels_true)} and "
                         f"{len(labels_pred)}")
    return labels_true, labels_pred


def _informative(labels: np.ndarray) -> np.ndarray:
    """The columns with more than one cluster (single-cluster spaces say nothing about redundancy)."""
    return labels[:, [s for s in range(labels.shape[1]) if len(np.unique(labels[:, s])) > 1]]


def best_match_nmi(labels_true: ArrayLike, labels_pred: ArrayLike) -> np.ndarray:
    """
    For every ground-truth labeling, the NMI of the found clustering that matches it best (ENRC Table 1).

    Parameters
    ----------
    labels_true : array-like
        shape (n_samples,) or (n_samples, L)
    labels_pred : array-like
        shape (n_samples,) or (n_samples, S)

    Returns
    -------
    scores : np.ndarray
        shape (L,)
    """
    labels_true, labels_pred = _pair(labels_true, labels_pred)
    return np.array([max(normalized_mutual_info_score(labels_true[:, g], labels_pred[:, s])
                         for s in range(labels_pred.shape[1])) for g in range(labels_true.shape[1])])


def one_to_one_nmi(labels_true: ArrayLike, labels_pred: ArrayLike) -> float:
    """
    Mean NMI when every ground-truth labeling is matched to a different found clustering, the matching that
    maximises the total (clustpy's MultipleLabelingsConfusionMatrix with "permut-max").

    Parameters
    ----------
    labels_true : array-like
        ground-truth labelings, shape (n_samples,) or (n_samples, G)
    labels_pred : array-like
        found clusterings, shape (n_samples,) or (n_samples, S)

    Returns
    -------
    float
    """
    from clustpy.metrics.external import MultipleLabelingsConfusionMatrix
    matrix = MultipleLabelingsConfusionMatrix(*_pair(labels_true, labels_pred))
    return float(matrix.aggregate("permut-max"))


def average_variation_of_information(labels_pred: ArrayLike) -> float:
    """
    Redundancy of the found clusterings (ENRC Table 3): the variation of information (natural logarithm,
    clustpy's ``variation_of_information``) averaged over all pairs of clusterings, single-cluster spaces
    excluded. Higher means less redundant; two independent 3-cluster labelings of equal sizes give 2 ln 3.

    Parameters
    ----------
    labels_pred : array-like
        found clusterings, shape (n_samples, S)

    Returns
    -------
    float

    Raises
    ------
    ValueError
        if fewer than two clusterings with more than one cluster are given, or labels not shaped as documented
    """
    from clustpy.metrics.external import variation_of_information
    labels = _informative(_as_columns(labels_pred, "labels_pred"))
    if labels.shape[1] < 2:
        raise ValueError("the variation of information needs at least two clusterings with more than one cluster")
    pairs = itertools.combinations(range(labels.shape[1]), 2)
    return float(np.mean([variation_of_information(labels[:, a], labels[:, b]) for a, b in pairs]))
