"""compile_step=True: torch.compile of the training step, eager last batch, eager fallback with one warning.

The fast tests compile with the "aot_eager" backend (dynamo capture and AOTAutograd's forward/backward split,
no C++ compilation); the inductor test, which compiles C++ kernels (about 30 s on a cold cache), is marked slow.
"""

import warnings

import numpy as np
import pytest
import torch
from clustpy.deep import DCN
from clustpy.deep.neural_networks import FeedforwardAutoencoder
from sklearn.datasets import make_blobs
from sklearn.metrics import normalized_mutual_info_score

from clustpy_acedec import ACeDeC, ENRC
from clustpy_acedec._execution import Execution

NETWORK = (FeedforwardAutoencoder, {"layers": [6, 16, 3]})


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(n_samples=200, centers=3, n_features=6, cluster_std=0.5, random_state=0)
    return X.astype(np.float32), y


def _acedec(**params):
    base = DCN(n_clusters=3, pretrain_epochs=1, clustering_epochs=2, batch_size=64, embedding_size=3, device="cpu",
               neural_network=NETWORK, random_state=0)
    return ACeDeC(base=base, init_iterations=8, verbose=False, **params)


@pytest.fixture
def compile_calls(monkeypatch):
    """torch.compile with the aot_eager backend; records the keyword arguments of every call."""
    real_compile, calls = torch.compile, []

    def compile_(function, **kwargs):
        calls.append(kwargs)
        return real_compile(function, backend="aot_eager", dynamic=kwargs.get("dynamic"))

    monkeypatch.setattr(torch, "compile", compile_)
    torch._dynamo.reset()
    return calls


def test_compiled_fit_gives_the_labels_of_the_eager_fit(blobs, compile_calls):
    from torch._dynamo.utils import counters
    X, _ = blobs
    eager = _acedec().fit(X)
    graphs_before = counters["stats"]["unique_graphs"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no fallback
        compiled = _acedec(compile_step=True).fit(X)
    assert counters["stats"]["unique_graphs"] > graphs_before
    assert compile_calls and all(c == {"mode": None, "dynamic": False} for c in compile_calls)  # CPU: default mode
    np.testing.assert_array_equal(compiled.labels_, eager.labels_)
    np.testing.assert_allclose(compiled.V_, eager.V_, atol=1e-5)


def test_enrc_compiled_fit_runs_in_bfloat16_without_recompiling_per_round(blobs, compile_calls):
    from torch._dynamo.utils import counters
    X, _ = blobs
    graphs_before = counters["stats"]["unique_graphs"]
    model = ENRC([3, 1], batch_size=64, pretrain_epochs=1, clustering_epochs=2, embedding_size=3, neural_network=NETWORK,
                 init="random", init_rounds=2, init_iterations=8, device="cpu", random_state=0, compile_step=True,
                 precision="bfloat16", verbose=False)  # rounds of one kind: the initial phase compiles once
    assert model.fit(X).labels_.shape == (200, 2)
    assert counters["stats"]["unique_graphs"] - graphs_before == 3  # pretraining, initial phase, clustering


def test_only_full_batches_run_compiled(monkeypatch):
    compiled_sizes, eager_sizes = [], []

    def loss_function(x):
        eager_sizes.append(x.shape[0])
        return (x * weight).sum()

    def fake_compile(function, **kwargs):
        def compiled(x):
            compiled_sizes.append(x.shape[0])
            return function(x)
        return compiled

    monkeypatch.setattr(torch, "compile", fake_compile)
    weight = torch.ones(2, requires_grad=True)
    step = Execution("cpu", compile_step=True).gradient_step(loss_function, torch.optim.SGD([weight], lr=0.1), 4)
    for x in torch.ones(10, 2).split(4):
        step(x)
    assert compiled_sizes == [4, 4] and eager_sizes == [4, 4, 2]
    assert torch.equal(weight.grad, torch.full((2,), 2.0))  # zeroed before every step


def test_failing_compilation_warns_once_and_the_fit_continues_eagerly(blobs, monkeypatch):
    X, _ = blobs

    def broken_compile(function, **kwargs):
        def compiled(*args):
            raise RuntimeError("no C++ compiler")
        return compiled

    monkeypatch.setattr(torch, "compile", broken_compile)
    eager = _acedec().fit(X)
    with pytest.warns(RuntimeWarning, match="compile_step.*no C\\+\\+ compiler") as record:
        fallback = _acedec(compile_step=True).fit(X)
    assert [w.filename for w in record if "compile_step" in str(w.message)] == [__file__]  # the caller's fit
    np.testing.assert_array_equal(fallback.labels_, eager.labels_)
    np.testing.assert_array_equal(fallback.V_, eager.V_)


def test_compile_mode_is_reduce_overhead_on_cuda_only():
    assert Execution(torch.device("cuda"), compile_step=True).compile_mode == "reduce-overhead"
    assert Execution("cpu", compile_step=True).compile_mode is None


@pytest.mark.parametrize("value", ["yes", 1, None])
def test_non_boolean_compile_step_raises(blobs, value):
    model = _acedec(compile_step=value)
    with pytest.raises(TypeError, match="compile_step"):
        model.fit(blobs[0])
    assert not hasattr(model, "labels_")


@pytest.mark.slow
def test_inductor_compiled_fit_gives_the_labels_of_the_eager_fit(blobs):
    X, y = blobs
    torch._dynamo.reset()
    eager = _acedec().fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        compiled = _acedec(compile_step=True).fit(X)
    # Inductor may round differently from eager (fused kernels): the labels agree, V within tolerance.
    assert normalized_mutual_info_score(eager.labels_, compiled.labels_) >= 0.99
    np.testing.assert_allclose(compiled.V_, eager.V_, atol=1e-4)
