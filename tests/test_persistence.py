"""Saving and loading fitted estimators."""

import numpy as np
import pytest
import torch
from clustpy.deep import DEC

from clustpy_acedec import ACeDeC, ENRC
from clustpy_acedec.data import make_synth


@pytest.fixture(scope="module")
def data():
    X, _ = make_synth(n_noise_dims=3, n_samples=200, noise_std=1.0, random_state=0)
    return X


@pytest.fixture(scope="module")
def acedec(data):
    base = DEC(n_clusters=4, pretrain_epochs=2, clustering_epochs=2, batch_size=64, embedding_size=4, device="cpu",
               random_state=0)
    return ACeDeC(base=base, init_iterations=20, verbose=False).fit(data)


@pytest.fixture(scope="module")
def enrc(data):
    return ENRC(n_clusters=[4, 2], pretrain_epochs=2, clustering_epochs=2, batch_size=64, embedding_size=4,
                init_rounds=1, init_iterations=20, device="cpu", random_state=0, verbose=False).fit(data)


def test_acedec_round_trip_predicts_identically(acedec, data, tmp_path):
    path = tmp_path / "acedec.pt"
    acedec.save(path)
    loaded = ACeDeC.load(path)
    np.testing.assert_array_equal(loaded.predict(data), acedec.predict(data))
    np.testing.assert_array_equal(loaded.transform(data), acedec.transform(data))
    np.testing.assert_array_equal(loaded.V_, acedec.V_)
    np.testing.assert_array_equal(loaded.betas_, acedec.betas_)
    assert loaded.get_params()["base__n_clusters"] == 4


def test_enrc_round_trip_predicts_identically(enrc, data, tmp_path):
    path = tmp_path / "enrc.pt"
    enrc.save(path)
    loaded = ENRC.load(path, device="cpu")
    np.testing.assert_array_equal(loaded.predict(data), enrc.predict(data))
    for a, b in zip(loaded.cluster_centers_, enrc.cluster_centers_):
        np.testing.assert_array_equal(a, b)


def test_loading_into_the_wrong_class_is_refused(acedec, tmp_path):
    path = tmp_path / "acedec.pt"
    acedec.save(path)
    with pytest.raises(ValueError, match="ACeDeC"):
        ENRC.load(path)


def test_a_file_of_another_version_is_refused(acedec, tmp_path):
    path = tmp_path / "old.pt"
    acedec.save(path)
    content = torch.load(path, weights_only=False)
    content["version"] = "0.0.1"
    torch.save(content, path)
    with pytest.raises(ValueError, match="0.0.1"):
        ACeDeC.load(path)


def test_a_foreign_file_is_refused(tmp_path):
    path = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(3)}, path)
    with pytest.raises(ValueError, match="not a file saved"):
        ACeDeC.load(path)


def test_saving_an_unfitted_estimator_fails(tmp_path):
    from sklearn.exceptions import NotFittedError
    with pytest.raises(NotFittedError):
        ACeDeC(n_clusters=3).save(tmp_path / "x.pt")
