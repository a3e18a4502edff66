"""Data placement: resident on the device or streamed from host memory; "host" must give the same fit as "device"."""

import numpy as np
import pytest
import torch
from clustpy.deep import DCN
from clustpy.deep.neural_networks import FeedforwardAutoencoder
from sklearn.datasets import make_blobs

from clustpy_acedec import ACeDeC, ENRC
from clustpy_acedec import _placement as placement_module
from clustpy_acedec._placement import DataPlacement, as_placement, place, resolve_streamed


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(n_samples=300, centers=4, n_features=6, cluster_std=0.6, random_state=0)
    return X.astype(np.float32), y


#: A small network keeps the fits fast.
NETWORK = (FeedforwardAutoencoder, {"layers": [6, 32, 4]})


def _both(X):
    host = torch.from_numpy(X)
    return place(host, torch.device("cpu"), "device"), place(host, torch.device("cpu"), "host")


def test_host_placement_keeps_the_array_and_streams(blobs):
    resident, streamed = _both(blobs[0])
    assert not resident.streamed and streamed.streamed
    assert np.shares_memory(streamed.X.numpy(), blobs[0])  # not copied


def test_streamed_batches_chunks_and_samples_equal_resident_ones(blobs):
    resident, streamed = _both(blobs[0])
    order = torch.randperm(len(resident), generator=torch.Generator().manual_seed(0))
    pairs = list(zip(resident.batches(order, 64), streamed.batches(order, 64)))
    assert len(pairs) == 5 and pairs[-1][0][1].shape[0] == 300 - 4 * 64
    for (idx_r, x_r), (idx_s, x_s) in pairs:
        assert torch.equal(idx_r, idx_s) and torch.equal(x_r, x_s)
    for a, b in zip(resident.chunks(128), streamed.chunks(128)):
        assert torch.equal(a, b)
    assert torch.equal(resident.take(order[:10]), streamed.take(order[:10]))
    mapped_r, mapped_s = resident.map(lambda x: 2 * x[:, :3], 128), streamed.map(lambda x: 2 * x[:, :3], 128)
    assert mapped_s.streamed and torch.equal(mapped_r.X, mapped_s.X)
    assert streamed.flatten().streamed and streamed.flatten().shape == (300, 6)


def test_a_tensor_is_a_resident_data_set():
    X = torch.zeros(5, 2)
    data = as_placement(X)
    assert data.X is X and not data.streamed and as_placement(data) is data


def test_a_streamed_data_set_must_be_on_the_host():
    with pytest.raises(ValueError, match="streamed"):
        DataPlacement(torch.zeros(2, 2, device="meta"), "cpu", streamed=True)


def test_auto_switch_uses_the_free_device_memory(monkeypatch):
    cuda = torch.device("cuda")
    free = 1000
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (free, 4 * free))
    fraction = placement_module.RESIDENT_FRACTION
    assert not resolve_streamed("auto", int(fraction * free), cuda)
    assert resolve_streamed("auto", int(fraction * free) + 1, cuda)
    assert not resolve_streamed("auto", 10**15, torch.device("cpu"))  # the CPU: always resident
    assert resolve_streamed("host", 1, cuda) and not resolve_streamed("device", 10**15, cuda)
    with pytest.raises(ValueError, match="data_placement"):
        resolve_streamed("disk", 1, cuda)


@pytest.mark.parametrize("pretraining", ["end_to_end", "stacked_denoising"])
def test_acedec_host_placement_gives_the_labels_of_device_placement(blobs, pretraining):
    X, _ = blobs
    base = DCN(n_clusters=4, pretrain_epochs=2, clustering_epochs=2, batch_size=64, embedding_size=4, device="cpu",
               neural_network=NETWORK, random_state=0)
    params = dict(base=base, init_iterations=10, pretraining=pretraining, verbose=False)
    device = ACeDeC(data_placement="device", **params).fit(X)
    host = ACeDeC(data_placement="host", **params).fit(X)
    assert (device.data_placement_, host.data_placement_) == ("device", "host")  # the streamed path ran
    np.testing.assert_array_equal(host.labels_, device.labels_)
    np.testing.assert_array_equal(host.V_, device.V_)
    np.testing.assert_array_equal(host.betas_, device.betas_)
    np.testing.assert_array_equal(host.predict(X), device.labels_)
    # predict places the data as the fit did, whatever data_placement says after the fit
    host.set_params(data_placement="disk")
    np.testing.assert_array_equal(host.predict(X), device.labels_)


def test_enrc_host_placement_gives_the_labels_of_device_placement(blobs):
    X, _ = blobs
    # 12 clusters on 300 points in 4 blobs, ten full batches of 30 per epoch: centres get lost, so
    # re-initialisation samples are drawn.
    params = dict(n_clusters=[12, 2], batch_size=30, pretrain_epochs=1, clustering_epochs=2, embedding_size=4,
                  neural_network=NETWORK, init_rounds=1, init_iterations=10, device="cpu", random_state=1, verbose=False)
    device = ENRC(data_placement="device", **params).fit(X)
    host = ENRC(data_placement="host", **params).fit(X)
    assert host.data_placement_ == "host"
    assert host.history_["clustering"].reinitialized_centers > 0  # a re-initialisation sample came from the host
    np.testing.assert_array_equal(host.labels_, device.labels_)
    np.testing.assert_array_equal(host.V_, device.V_)


@pytest.mark.parametrize("value, error", [("disk", ValueError), (None, TypeError), (1, TypeError)])
def test_bad_data_placement_raises(blobs, value, error):
    model = ACeDeC(n_clusters=4, data_placement=value, verbose=False)
    with pytest.raises(error, match="data_placement"):
        model.fit(blobs[0])
    assert not hasattr(model, "labels_")
