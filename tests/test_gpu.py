"""
CUDA checks, skipped on machines without a GPU (CI): a session lent a GPU runs ``pytest tests/test_gpu.py`` first.

They check what the CPU tests cannot: every tensor of a fit on the GPU, the bases and ENRC there, data streamed
from pinned host memory, bfloat16 autocast, the compiled step with CUDA graphs (no eager fallback), and the
speed harness against clustpy's DCN on the same device. Assignments can differ from a CPU fit in the last bits
(``index_add_`` is not deterministic on CUDA), so the checks compare clusterings by NMI on easy data.
"""

import json
import warnings

import numpy as np
import pytest
import torch
from clustpy.deep import DCN, DEC, IDEC
from clustpy.deep.neural_networks import FeedforwardAutoencoder
from sklearn.datasets import make_blobs
from sklearn.metrics import normalized_mutual_info_score as nmi

from clustpy_acedec import ACeDeC, ENRC

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")

NETWORK = (FeedforwardAutoencoder, {"layers": [8, 32, 4]})


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(n_samples=600, centers=4, n_features=8, cluster_std=0.5, random_state=0)
    return X.astype(np.float32), y


def _acedec(base_class=DCN, **params):
    base = base_class(n_clusters=4, pretrain_epochs=5, clustering_epochs=5, batch_size=64, embedding_size=4,
                      device="cuda", neural_network=NETWORK, random_state=0)
    return ACeDeC(base=base, init_iterations=50, verbose=False, **params)


def _tensors_of(model: torch.nn.Module) -> list:
    return list(model.parameters()) + list(model.buffers())


@pytest.mark.parametrize("base_class", [DCN, DEC, IDEC])
def test_acedec_fits_on_cuda_with_every_tensor_there(blobs, base_class):
    X, y = blobs
    model = _acedec(base_class).fit(X)
    assert all(t.device.type == "cuda" for t in _tensors_of(model.model_))
    assert nmi(y, model.labels_) > 0.9
    np.testing.assert_array_equal(model.predict(X), model.labels_)
    assert model.transform(X).shape == (600, len(model.cluster_space_dims_))


_FIT_IN_A_FRESH_PROCESS = (
    "import numpy as np, torch\n"
    "from clustpy.deep import DCN\n"
    "from clustpy_acedec import ACeDeC\n"
    "torch.manual_seed(123)\n"
    "if FIT_DEVICE:\n"
    "    X = np.random.RandomState(0).rand(200, 8).astype(np.float32)\n"
    "    ACeDeC(base=DCN(n_clusters=3, pretrain_epochs=1, clustering_epochs=1, batch_size=64, embedding_size=4,\n"
    "                    device=FIT_DEVICE, random_state=0), init_iterations=10, verbose=False).fit(X)\n"
    "print(torch.rand(3, device=DRAW_DEVICE).tolist())\n")


def _draws_after(fit_device: str | None, draw_device: str) -> str:
    """A user's CUDA draws after torch.manual_seed(123) and maybe a fit, in a fresh process (CUDA not started)."""
    import subprocess
    import sys
    code = f"FIT_DEVICE = {fit_device!r}\nDRAW_DEVICE = {draw_device!r}\n" + _FIT_IN_A_FRESH_PROCESS
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout


def test_a_cpu_fit_before_cuda_starts_leaves_the_users_cuda_seed():
    """torch keeps CUDA seeds until CUDA starts; clustpy's constructor queues the fit's there: it is taken out."""
    assert _draws_after("cpu", "cuda") == _draws_after(None, "cuda")


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs two GPUs")
def test_a_fit_on_one_gpu_leaves_the_other_gpus_generators():
    """clustpy's constructor seeds every CUDA device (torch.cuda.manual_seed_all): all are given back."""
    assert _draws_after("cuda:0", "cuda:1") == _draws_after(None, "cuda:1")


def test_a_cuda_device_the_machine_lacks_is_refused():
    from clustpy_acedec.devices import resolve_device
    missing = torch.cuda.device_count()
    with pytest.raises(ValueError, match=f"cuda:{missing}.*{missing} CUDA device"):
        resolve_device(f"cuda:{missing}")
    assert resolve_device(missing - 1) == torch.device(f"cuda:{missing - 1}")


def test_enrc_fits_on_cuda(blobs):
    X, y = blobs
    second = (X[:, 0] > np.median(X[:, 0])).astype(int)  # a second labeling to find beside the blobs
    X2 = np.hstack([X, 4.0 * second[:, None] + 0.3 * np.random.RandomState(0).randn(600, 2)]).astype(np.float32)
    model = ENRC(n_clusters=[4, 2], batch_size=64, pretrain_epochs=5, clustering_epochs=5, embedding_size=6,
                 neural_network=(FeedforwardAutoencoder, {"layers": [10, 32, 6]}), init_rounds=2, init_iterations=50,
                 device="cuda", random_state=0, verbose=False).fit(X2)
    assert model.labels_.shape == (600, 2)
    assert all(t.device.type == "cuda" for t in _tensors_of(model.model_))
    assert max(nmi(y, labels) for labels in model.labels_.T) > 0.8


def test_host_placement_on_cuda_streams_and_clusters_like_device_placement(blobs):
    X, y = blobs
    device = _acedec(data_placement="device").fit(X)
    host = _acedec(data_placement="host").fit(X)
    assert nmi(host.labels_, device.labels_) > 0.95 and nmi(y, host.labels_) > 0.9


def test_a_resident_data_sets_map_streams_an_output_that_would_not_fit(blobs, monkeypatch):
    """Stacked pretraining's next-layer input (a wide layer's activations) goes to the host when "auto" finds
    too little free memory, while a narrow one stays on the device."""
    from clustpy_acedec._placement import place
    resident = place(torch.from_numpy(blobs[0]), torch.device("cuda"), "device")
    free = 600 * 8 * 4  # the data set's own size
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (free, 10**12))
    narrow = resident.map(lambda x: x[:, :1], 128)
    wide = resident.map(lambda x: torch.cat([x] * 5, 1), 128)
    assert not narrow.streamed and narrow.X.device.type == "cuda"
    assert wide.streamed and wide.X.device.type == "cpu" and wide.device.type == "cuda"
    assert torch.equal(wide.X, torch.cat([resident.X] * 5, 1).cpu())


def test_bfloat16_on_cuda(blobs):
    X, y = blobs
    model = _acedec(precision="bfloat16").fit(X)
    assert nmi(y, model.labels_) > 0.9 and model.V_.dtype == np.float32


def test_compiled_step_with_cuda_graphs_runs_without_falling_back(blobs):
    from torch._dynamo.utils import counters
    X, y = blobs
    counters.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # the eager fallback warns: fail instead
        model = _acedec(compile_step=True).fit(X)
    assert nmi(y, model.labels_) > 0.9
    assert not counters["inductor"].get("cudagraph_skips")  # a skipped CUDA graph raises no warning


def test_a_saved_model_loads_onto_a_cuda_device_given_as_an_index(blobs, tmp_path):
    X, _ = blobs
    model = _acedec().fit(X)
    model.save(tmp_path / "model.pt")
    for device in (0, "cuda", None, "cpu"):
        loaded = ACeDeC.load(tmp_path / "model.pt", device=device)
        expected = "cpu" if device == "cpu" else "cuda"
        assert all(t.device.type == expected for t in _tensors_of(loaded.model_))
        np.testing.assert_array_equal(loaded.predict(X), model.labels_)


def test_speed_harness_against_clustpys_dcn_on_cuda(tmp_path, monkeypatch):
    from clustpy_acedec_bench import speed
    from clustpy_acedec_bench.cli import main
    monkeypatch.setitem(speed.TASKS, "tiny-dcn", speed.SpeedTask("SYNTH-25", "ACeDeC", 1, 2, 64, 4, max_samples=300,
                                                                 init_iterations=20, baseline="DCN"))
    assert main(["--speed", "tiny-dcn", "--seeds", "0", "--device", "cuda", "--quiet", "--output", str(tmp_path)]) == 0
    ours, theirs = [json.loads(line) for line in (tmp_path / "speed.jsonl").read_text().splitlines()]
    assert ours["device"].startswith("cuda") and theirs["device"].startswith("cuda") and not theirs["note"]
    assert len(ours) and ours["pretrain_epochs"] == 1  # the untimed warm-up runs left no rows
    assert ours["peak_device_mb"] > 0 and theirs["peak_device_mb"] > 0
