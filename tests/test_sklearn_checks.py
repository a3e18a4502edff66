"""
scikit-learn's estimator checks on ACeDeC and ENRC, with tiny schedules.

Every check that cannot apply to a deep subspace clusterer is listed below with its reason; all others must
pass. ``parametrize_with_checks`` reports a listed check that starts to pass as an unexpected success (xpass).
"""

import re

import numpy as np
import pytest
import torch
from clustpy.deep import DCN
from sklearn.utils.estimator_checks import (check_estimators_dtypes, check_estimators_pickle, check_fit_idempotent,
                                            parametrize_with_checks)

from clustpy_acedec import ACeDeC, ENRC

_ONE_CLUSTER = ("sets n_clusters=1; a cluster space (ACe/DeC) or a clustering (ENRC) needs at least two clusters, "
                "so n_clusters=1 is refused with a ValueError")
_COMPLEX = "complex input is a wrong type and raises a TypeError naming the dtype, not sklearn's ValueError"

ACEDEC_NOT_APPLICABLE = {
    "check_dont_overwrite_parameters": _ONE_CLUSTER,
    "check_methods_subset_invariance": _ONE_CLUSTER,
    "check_fit2d_1feature": _ONE_CLUSTER,
    "check_fit2d_predict1d": _ONE_CLUSTER,
    "check_complex_data": _COMPLEX,
}

_LIST = ("sets n_clusters to an int; ENRC's n_clusters is a list with one entry per clustering, and an int is "
         "refused with a TypeError")
ENRC_NOT_APPLICABLE = {
    "check_dont_overwrite_parameters": _LIST,
    "check_methods_subset_invariance": _LIST,
    "check_methods_sample_order_invariance": _LIST,
    "check_fit2d_1feature": _LIST,
    "check_fit2d_predict1d": _LIST,
    "check_clustering": _LIST + "; ENRC's labels_ is (n_samples, S), one column per clustering",
    "check_complex_data": _COMPLEX,
}


def _tiny_acedec() -> ACeDeC:
    return ACeDeC(base=DCN(n_clusters=3, pretrain_epochs=1, clustering_epochs=1, batch_size=32, embedding_size=2,
                           device="cpu"), random_state=0, init_rounds=1, init_iterations=5)


def _tiny_enrc() -> ENRC:
    # init="random": the default start's 50 Nr-Kmeans runs per fit took most of the checks' time (47 s against 9 s
    # on a loaded 2-core machine); the default start goes through a few of them below, and test_enrc.py tests
    # its results.
    return ENRC([3, 2], pretrain_epochs=1, clustering_epochs=1, batch_size=32, embedding_size=2, init="random",
                init_rounds=1, init_iterations=5, device="cpu", random_state=0)


def _not_applicable(estimator) -> dict:
    return ACEDEC_NOT_APPLICABLE if isinstance(estimator, ACeDeC) else ENRC_NOT_APPLICABLE


@parametrize_with_checks([_tiny_acedec(), _tiny_enrc()], expected_failed_checks=_not_applicable)
def test_sklearn_estimator_checks(estimator, check):
    torch.set_num_threads(1)
    check(estimator)


@pytest.mark.parametrize("check", [check_estimators_dtypes, check_estimators_pickle, check_fit_idempotent],
                         ids=lambda check: check.__name__)
def test_enrc_with_its_default_start_passes_the_checks_on_dtypes_pickling_and_refits(check):
    """A few of the checks with ENRC's default init="best" (the Nr-Kmeans candidate beside the random ones): input
    dtypes, a pickled fitted model's predictions, and a refit that repeats the first."""
    torch.set_num_threads(1)
    estimator = _tiny_enrc().set_params(init="best", init_rounds=2)
    check(type(estimator).__name__, estimator)


_TINY = {"ACeDeC": _tiny_acedec, "ENRC": _tiny_enrc}


@pytest.mark.parametrize("estimator, parameter", [(name, parameter) for name, make in _TINY.items()
                                                  for parameter in make().get_params(deep=False)])
def test_every_parameter_is_validated_at_fit(estimator, parameter):
    """A value of no sensible type is refused before any work, by an error that names the parameter: every
    parameter of the signature is declared in the estimator's constraints."""
    X = np.random.default_rng(0).normal(size=(40, 4)).astype(np.float32)
    model = _TINY[estimator]().set_params(**{parameter: object()})
    with pytest.raises((TypeError, ValueError), match=rf"\b{re.escape(parameter)}\b"):
        model.fit(X)
    assert not hasattr(model, "labels_")


@pytest.mark.parametrize("estimator", list(_TINY))
def test_a_subclass_may_add_parameters(estimator):
    """As scikit-learn's estimators: a subclass's own parameters are its business, not the parent's checks."""
    parent = type(_TINY[estimator]())

    class WithNote(parent):
        def __init__(self, note: str = "", **params):
            super().__init__(**params)
            self.note = note

        @classmethod
        def _get_param_names(cls):
            return sorted(parent._get_param_names() + ["note"])

    model = WithNote(note="mine", **_TINY[estimator]().get_params(deep=False))
    X = np.random.default_rng(0).normal(size=(40, 4)).astype(np.float32)
    assert model.fit(X).labels_.shape[0] == 40
    assert model.get_params()["note"] == "mine"
