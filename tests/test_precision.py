"""precision="bfloat16": the network's forward passes under autocast, the subspace layer and objectives in float32."""

import numpy as np
import pytest
import torch
from clustpy.deep import DCN
from clustpy.deep.neural_networks import FeedforwardAutoencoder
from sklearn.datasets import make_blobs
from sklearn.metrics import normalized_mutual_info_score

from clustpy_acedec import ACeDeC, ENRC
from clustpy_acedec._centers import MiniBatchCenters
from clustpy_acedec._execution import Execution
from clustpy_acedec.losses import POINTS
from clustpy_acedec._model import SubspaceClusteringModel, float32_region
from clustpy_acedec._objectives import HardCentroidObjective, SharedMeanObjective
from clustpy_acedec._initialization import random_orthogonal, split_beta_logits
from clustpy_acedec._subspace import SubspaceLayer, weighted_squared_distance

NETWORK = (FeedforwardAutoencoder, {"layers": [6, 32, 4]})


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(n_samples=300, centers=3, n_features=6, cluster_std=0.5, random_state=0)
    return X.astype(np.float32), y


def _model(d=4, n_features=6):
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(0)
    layer = SubspaceLayer(random_orthogonal(d, generator), split_beta_logits(d, generator), parametrization="sigmoid")
    centers = MiniBatchCenters([torch.randn(3, d, generator=generator)], [0], [10.0])
    objectives = [HardCentroidObjective(centers), SharedMeanObjective(torch.zeros(d), space=1)]
    return SubspaceClusteringModel(FeedforwardAutoencoder([n_features, 16, d]), layer, objectives, POINTS)


def test_autocast_would_compute_the_distances_in_bfloat16():
    # The result is float32 (the centre term is a sum, promoted), but both matrix products ran in bfloat16.
    generator = torch.Generator().manual_seed(0)
    points, centers, betas = (torch.randn(64, 4, generator=generator) * 10, torch.randn(3, 4, generator=generator),
                              torch.rand(4, generator=generator))
    exact = weighted_squared_distance(points, centers, betas)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        rounded = weighted_squared_distance(points, centers, betas)
        with float32_region(points):
            protected = weighted_squared_distance(points, centers, betas)
    assert (rounded - exact).abs().max() > 1e-3 * exact.abs().max()
    assert torch.equal(protected, exact)


class _ExactInBfloat16(torch.nn.Module):
    """An autoencoder whose bfloat16 arithmetic is exact: an encoder of small integer weights (applied to small
    integers) and a decoder that outputs zeros. Autocast cannot change its outputs, so any difference autocast
    makes to a loss comes from the parts that should run in float32."""

    def __init__(self, n_features: int = 6, d: int = 4):
        super().__init__()
        self.encoder = torch.nn.Linear(n_features, d, bias=False)
        self.decoder = torch.nn.Linear(d, n_features, bias=False)
        with torch.no_grad():
            self.encoder.weight.copy_(torch.randint(-2, 3, (d, n_features), generator=torch.Generator().manual_seed(1)))
            self.decoder.weight.zero_()

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        return self.decoder(z)


def test_batch_loss_under_autocast_runs_the_network_in_bfloat16_and_the_subspace_in_float32():
    model = _model()
    model.autoencoder = _ExactInBfloat16()
    model.layer.V.data.mul_(10)  # distances of a size at which bfloat16 products would round them
    x = torch.randint(-3, 4, (32, 6), generator=torch.Generator().manual_seed(2)).float()
    network_dtypes = []
    for module in (model.autoencoder.encoder, model.autoencoder.decoder):
        module.register_forward_hook(lambda m, args, out: network_dtypes.append(out.dtype))
    exact = model.clustering_loss(x)
    network_dtypes.clear()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss, z, rotated, labels = model.clustering_loss(x)
    assert network_dtypes and set(network_dtypes) == {torch.bfloat16}
    assert torch.equal(z, exact[1]) and torch.equal(rotated, exact[2])  # the network's bfloat16 output is exact
    assert torch.equal(loss, exact[0]) and torch.equal(labels, exact[3])  # so nothing after it rounded
    assert loss.dtype == z.dtype == rotated.dtype == torch.float32
    loss.backward()
    assert all(p.grad is None or p.grad.dtype == torch.float32 for p in model.parameters())


def test_float32_execution_leaves_the_function_alone():
    function = lambda x: x  # noqa: E731
    assert Execution("cpu").with_precision(function) is function
    with pytest.raises(ValueError, match="precision"):
        Execution("cpu", precision="float16")


def _fit(X, precision, pretraining="end_to_end"):
    base = DCN(n_clusters=3, pretrain_epochs=5, clustering_epochs=3, batch_size=64, embedding_size=4, device="cpu",
               neural_network=NETWORK, random_state=0)
    return ACeDeC(base=base, init_iterations=20, pretraining=pretraining, precision=precision, verbose=False).fit(X)


@pytest.mark.parametrize("pretraining", ["end_to_end", "stacked_denoising"])
def test_bfloat16_fit_gives_the_float32_clustering_on_easy_blobs(blobs, pretraining):
    X, y = blobs
    float32, bfloat16 = _fit(X, "float32", pretraining), _fit(X, "bfloat16", pretraining)
    assert normalized_mutual_info_score(float32.labels_, bfloat16.labels_) >= 0.95
    assert normalized_mutual_info_score(y, bfloat16.labels_) >= 0.95
    assert bfloat16.V_.dtype == np.float32 and bfloat16.cluster_centers_.dtype == np.float32
    assert all(p.dtype == torch.float32 for p in bfloat16.model_.parameters())


def test_enrc_fits_in_bfloat16(blobs):
    X, _ = blobs
    model = ENRC([3, 1], batch_size=64, pretrain_epochs=2, clustering_epochs=2, embedding_size=4, neural_network=NETWORK,
                 init_rounds=1, init_iterations=10, device="cpu", random_state=0, precision="bfloat16", verbose=False)
    labels = model.fit(X).labels_
    assert labels.shape == (300, 2) and np.isfinite(model.V_).all()


def test_bfloat16_on_a_cpu_that_emulates_it_warns_and_float32_never_does(blobs):
    import platform
    import warnings
    X, _ = blobs
    x86 = platform.machine().lower() in ("x86_64", "amd64", "i386", "i686", "x86")
    emulated = x86 and not (torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _fit(X, "bfloat16", "end_to_end")
        bfloat16 = [w for w in caught if "precision='bfloat16'" in str(w.message)]
        caught.clear()
        _fit(X, "float32", "end_to_end")
    assert bool(bfloat16) == emulated  # this machine's answer: warned where torch emulates, silent where it does not
    assert all(w.category is RuntimeWarning for w in bfloat16)
    assert not [w for w in caught if "bfloat16" in str(w.message)]


@pytest.mark.parametrize("value, error", [("float16", ValueError), (torch.bfloat16, TypeError)])
def test_bad_precision_raises(blobs, value, error):
    model = ACeDeC(n_clusters=3, precision=value, verbose=False)
    with pytest.raises(error, match="precision"):
        model.fit(blobs[0])
    assert not hasattr(model, "labels_")


def test_optimizers_are_fused_where_the_class_offers_it_and_the_caller_did_not_choose():
    from clustpy_acedec._execution import make_optimizer
    parameters = (p for p in [torch.nn.Parameter(torch.randn(3, 2))])  # a generator, consumed once
    assert make_optimizer(torch.optim.Adam, parameters, lr=1e-3).defaults["fused"] is True
    weight = torch.nn.Parameter(torch.randn(3))
    assert make_optimizer(torch.optim.SGD, [weight], lr=0.1, momentum=0.9).defaults["fused"] is True
    assert not make_optimizer(torch.optim.Adam, [weight], lr=1e-3, foreach=True).defaults["fused"]
    assert not make_optimizer(torch.optim.Adam, [weight], lr=1e-3, fused=False).defaults["fused"]
    assert isinstance(make_optimizer(torch.optim.RMSprop, [weight], lr=1e-3), torch.optim.RMSprop)
    # torch checks the device only at the first step: a device without fused kernels must fall back here
    on_meta = torch.nn.Parameter(torch.empty(3, device="meta"))
    assert not make_optimizer(torch.optim.Adam, [dict(params=[on_meta], lr=1e-2)], lr=1e-3).defaults["fused"]
    assert make_optimizer(torch.optim.Adam, [dict(params=[weight], lr=1e-2)], lr=1e-3).defaults["fused"] is True


def test_fused_adam_takes_the_steps_of_the_default_adam():
    from clustpy_acedec._execution import make_optimizer
    torch.manual_seed(0)
    start, target = torch.randn(50, 8), torch.randn(50, 8)
    weights = []
    for make in (lambda p: make_optimizer(torch.optim.Adam, p, lr=1e-2), lambda p: torch.optim.Adam(p, lr=1e-2)):
        weight = torch.nn.Parameter(start.clone())
        optimizer = make([weight])
        for _ in range(20):
            optimizer.zero_grad()
            ((weight - target) ** 2).sum().backward()
            optimizer.step()
        weights.append(weight.detach())
    assert not torch.equal(weights[0], start)
    torch.testing.assert_close(weights[0], weights[1], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("estimator", [ACeDeC, ENRC])
def test_both_estimators_document_the_execution_parameters(estimator):
    doc = estimator.__doc__
    assert "{execution_parameters}" not in doc
    for parameter in ("data_placement : str", "precision : str", "compile_step : bool"):
        assert f"\n    {parameter}\n" in doc
    assert "{augmentation_parameter}" not in doc and "\n    augmentation : Callable | None\n" in doc
