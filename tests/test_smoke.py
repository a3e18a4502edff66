"""End-to-end smoke test: a tiny fit runs and produces consistent fitted attributes."""

import numpy as np

from clustpy_acedec import ACeDeC
from clustpy_acedec.data import make_synth


def test_acedec_dcn_tiny_fit_attributes():
    X, _ = make_synth(n_noise_dims=3, n_samples=400, noise_std=1.0, random_state=0)
    model = ACeDeC(n_clusters=4, verbose=False)
    model.base = None
    from clustpy.deep import DCN
    model = ACeDeC(base=DCN(n_clusters=4, pretrain_epochs=2, clustering_epochs=2, batch_size=64, embedding_size=4,
                            random_state=0), verbose=False).fit(X)
    assert model.labels_.shape == (400,)
    assert model.cluster_centers_.shape == (4, 4)
    assert model.betas_.shape == (2, 4)
    np.testing.assert_allclose(model.betas_.sum(0), 1.0, atol=1e-6)
    np.testing.assert_array_equal(model.predict(X), model.labels_)
