"""DEC's stacked denoising pretraining: stages, layer-wise training, fine-tuning, estimator option."""

import os

import numpy as np
import pytest
import torch
from clustpy.deep import DCN
from clustpy.deep.neural_networks import FeedforwardAutoencoder

from clustpy_acedec import ACeDeC, ENRC
from clustpy_acedec.losses import reconstruction_loss
from clustpy_acedec.networks import SmallConvAutoencoder
from clustpy_acedec.pretraining import (StackedDenoisingPretraining, _layer_pairs, linear_stages,
                                        embed, pretrain, resolve_pretraining)


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    latent = rng.normal(size=(256, 3))
    X = np.tanh(latent @ rng.normal(size=(3, 12))) + 0.05 * rng.normal(size=(256, 12))
    return torch.tensor(X, dtype=torch.float32)


def test_stages_start_at_each_linear_layer():
    autoencoder = FeedforwardAutoencoder([12, 8, 6, 3])
    stages = linear_stages(autoencoder.encoder.block)
    assert len(stages) == 3
    assert all(isinstance(stage[0], torch.nn.Linear) for stage in stages)
    assert isinstance(stages[0][-1], torch.nn.LeakyReLU) and len(stages[-1]) == 1  # linear embedding
    pairs = _layer_pairs(autoencoder)
    assert [(e[0].in_features, d[0].out_features) for e, d in pairs] == [(12, 12), (8, 8), (6, 6)]


def test_layerwise_then_finetuning_trains_every_layer_and_reconstructs(data):
    torch.manual_seed(0)
    autoencoder = FeedforwardAutoencoder([12, 8, 6, 3])
    before = [p.detach().clone() for p in autoencoder.parameters()]
    with torch.no_grad():
        error_before = float(reconstruction_loss(data, autoencoder.decode(autoencoder.encode(data))))
    schedule = StackedDenoisingPretraining(layerwise_epochs=10, finetune_epochs=30, lr=0.1)
    result = schedule.run(autoencoder, data, batch_size=32, generator=torch.Generator().manual_seed(0))
    assert result is autoencoder and autoencoder.fitted and not autoencoder.training
    assert all(not torch.equal(b, p) for b, p in zip(before, autoencoder.parameters()))
    with torch.no_grad():
        error_after = float(reconstruction_loss(data, autoencoder.decode(autoencoder.encode(data))))
    assert error_after < 0.5 * error_before


def test_dec_schedule_from_epochs_and_names():
    schedule = resolve_pretraining("stacked_denoising", 100)
    assert (schedule.layerwise_epochs, schedule.finetune_epochs, schedule.dropout, schedule.lr) == (50, 100, 0.2, 1.0)
    assert resolve_pretraining("end_to_end", 100) is None
    assert resolve_pretraining("stacked_denoising", 0) is None
    custom = StackedDenoisingPretraining(layerwise_epochs=1, finetune_epochs=2)
    assert resolve_pretraining(custom, 100) is custom
    with pytest.raises(ValueError, match="pretraining must be one of"):
        resolve_pretraining("greedy", 10)
    with pytest.raises(TypeError, match="pretraining must be"):
        resolve_pretraining(3, 10)


def test_full_schedule_is_decs_iteration_budget_on_any_data_set_size():
    schedule = resolve_pretraining("stacked_denoising_full", 100)
    assert (schedule.layerwise_iterations, schedule.finetune_iterations) == (50_000, 100_000)
    assert schedule.phase_epochs(9298, 256) == (1351, 2703)  # USPS: 37 batches per epoch
    assert schedule.phase_epochs(70000, 256) == (182, 365)  # MNIST: 274 batches per epoch
    assert StackedDenoisingPretraining(layerwise_iterations=1).phase_epochs(10**6, 10) == (1, 100)
    assert resolve_pretraining("stacked_denoising_full", 0) is None  # 0 epochs: no pretraining, for every name


def test_iteration_budget_sets_the_epochs_each_phase_runs(data):
    schedule = StackedDenoisingPretraining(layerwise_iterations=24, finetune_iterations=40)
    assert schedule.phase_epochs(256, 32) == (3, 5)  # 256 points in batches of 32: 8 steps per epoch
    # the augmentation sees every batch the schedule trains on: 3 epochs per layer pair (2 pairs), 5 of fine-tuning
    counting = _Recording(0.5)
    pretrain(FeedforwardAutoencoder([12, 8, 3]), data, schedule, 1, 32, torch.optim.Adam, {},
             torch.Generator().manual_seed(0), augment=counting)
    assert counting.calls == 8 * (3 + 3 + 5)


def test_convolutional_network_is_refused(data):
    with pytest.raises(TypeError, match="fully connected autoencoder"):
        StackedDenoisingPretraining(1, 1).run(SmallConvAutoencoder((1, 8, 8), 4), data, 32, torch.Generator())


def test_divergence_is_reported(data):
    with pytest.raises(FloatingPointError, match="diverged in layer pair 1"):
        StackedDenoisingPretraining(1, 1, lr=1e6, max_grad_norm=None).run(FeedforwardAutoencoder([12, 8, 3]), data * 100, 32,
                                                       torch.Generator())


def test_estimators_pretrain_with_the_option(data):
    X = torch.sigmoid(data).numpy()  # in [0, 1], the scale the default learning rate is meant for
    base = DCN(n_clusters=2, pretrain_epochs=4, clustering_epochs=1, batch_size=32, embedding_size=3, device="cpu",
               random_state=0)
    model = ACeDeC(base=base, pretraining="stacked_denoising", init_iterations=5, verbose=False).fit(X)
    assert model.neural_network_trained_.fitted and model.labels_.shape == (256,)
    enrc = ENRC(n_clusters=[2, 2], pretrain_epochs=2, clustering_epochs=1, batch_size=32, embedding_size=4,
                init_rounds=1, init_iterations=5, device="cpu", random_state=0, verbose=False,
                pretraining=StackedDenoisingPretraining(layerwise_epochs=1, finetune_epochs=1)).fit(X)
    assert enrc.labels_.shape == (256, 2)


def test_bad_option_leaves_estimator_unfitted(data):
    model = ACeDeC(n_clusters=2, pretraining="layerwise", verbose=False)
    with pytest.raises(ValueError, match="pretraining"):
        model.fit(data.numpy())
    assert not hasattr(model, "labels_")


@pytest.mark.parametrize("field, value, error", [
    ("layerwise_epochs", -1, ValueError), ("finetune_epochs", 2.5, TypeError), ("dropout", 1.0, ValueError),
    ("lr", 0.0, ValueError), ("momentum", -0.1, ValueError), ("optimizer_class", "SGD", TypeError),
    ("max_grad_norm", 0.0, ValueError), ("lr_decay_epochs", 0, ValueError), ("finetune_iterations", 0, ValueError),
])
def test_a_schedule_field_out_of_range_is_refused_by_name(data, field, value, error):
    with pytest.raises(error, match=field):
        StackedDenoisingPretraining(**{field: value})
    # a schedule changed after it was made is refused before anything is trained
    schedule = StackedDenoisingPretraining(layerwise_epochs=1, finetune_epochs=1)
    setattr(schedule, field, value)
    model = ACeDeC(n_clusters=2, pretraining=schedule, verbose=False)
    with pytest.raises(error, match=field):
        model.fit(data.numpy())
    assert not hasattr(model, "labels_")


def test_pretrain_refuses_bad_arguments_by_name(data):
    network = FeedforwardAutoencoder([12, 8, 3])
    good = dict(autoencoder=network, X=data, schedule=None, n_epochs=1, batch_size=32,
                optimizer_class=torch.optim.Adam, optimizer_params={"lr": 1e-3}, generator=torch.Generator())
    for name, value, error in [("n_epochs", -1, ValueError), ("batch_size", 0, ValueError),
                               ("generator", None, TypeError), ("optimizer_class", "Adam", TypeError),
                               ("optimizer_params", None, TypeError), ("schedule", "stacked_denoising", TypeError)]:
        with pytest.raises(error, match=name):
            pretrain(**{**good, name: value})
    assert pretrain(**good) is network and network.fitted


def test_embed_of_no_samples_has_the_embeddings_width():
    # a distributed fit's rank may hold none of a re-initialisation sample: its part is an empty embedding
    autoencoder = FeedforwardAutoencoder(layers=[5, 8, 3])
    assert embed(autoencoder, torch.zeros(0, 5)).shape == (0, 3)
    assert embed(autoencoder, torch.zeros(4, 5)).shape == (4, 3)


class _Recording:
    """An augmentation that maps every batch to a constant and counts the batches it saw."""

    def __init__(self, value: float):
        self.value, self.calls, self.rows = value, 0, 0

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        self.calls += 1
        self.rows += x.shape[0]
        return torch.full_like(x, self.value)


@pytest.mark.parametrize("schedule", [None, StackedDenoisingPretraining(layerwise_epochs=2, finetune_epochs=20,
                                                                        lr=0.1)])
def test_pretraining_trains_on_the_augmented_batches(data, schedule):
    # Augmentations that map everything to one constant image: a network trained on them reconstructs that
    # image, and not the data set it never saw.
    torch.manual_seed(0)
    plain, augmented = FeedforwardAutoencoder([12, 8, 3]), FeedforwardAutoencoder([12, 8, 3])
    augmented.load_state_dict(plain.state_dict())
    augment = _Recording(0.7)
    for network, aug in ((plain, None), (augmented, augment)):
        pretrain(network, data, schedule, 20, 32, torch.optim.Adam, {"lr": 1e-2},
                 torch.Generator().manual_seed(0), augment=aug)
    with torch.no_grad():
        constant = torch.full_like(data, 0.7)
        constant = augmented.decode(augmented.encode(constant))
        error = {name: float(reconstruction_loss(data, net.decode(net.encode(data))))
                 for name, net in (("plain", plain), ("augmented", augmented))}
    assert float((constant - 0.7).abs().max()) < 0.1
    assert error["augmented"] > 5 * error["plain"]
    n_batches = -(-256 // 32)
    # every batch of every epoch: 20 end to end, or 2 per layer pair (2 pairs) and 20 of fine-tuning
    assert augment.calls == n_batches * (20 if schedule is None else 2 * 2 + 20)
    assert augment.rows == augment.calls // n_batches * 256


def test_augmentation_invariance_pretrains_on_augmented_images():
    # A network pretrained on rotated and shifted digits reconstructs rotated and shifted digits better than one
    # pretrained on the digits as they are (clustering_epochs=0: the pretraining is all the two fits differ in).
    from sklearn.datasets import load_digits
    from clustpy_acedec.preprocessing import RandomRotationShift
    images = (load_digits().images[:400] / 16.0).astype(np.float32)

    def pretrained(augmentation: bool) -> torch.nn.Module:
        base = DCN(n_clusters=10, pretrain_epochs=30, clustering_epochs=0, batch_size=32, embedding_size=8,
                   device="cpu", random_state=0, augmentation_invariance=augmentation)
        return ACeDeC(base=base, init_iterations=5, verbose=False).fit(images).neural_network_trained_

    flat = torch.from_numpy(images.reshape(400, -1))
    augmented = RandomRotationShift((8, 8))(flat, torch.Generator().manual_seed(1))

    def error(network: torch.nn.Module, x: torch.Tensor) -> float:
        with torch.no_grad():
            return float(reconstruction_loss(x, network.decode(network.encode(x))))

    plain_network, augmented_network = pretrained(False), pretrained(True)
    assert error(augmented_network, augmented) < 0.8 * error(plain_network, augmented)
    assert error(plain_network, flat) < error(augmented_network, flat)


@pytest.mark.parametrize("call", [
    lambda net, X: pretrain(net, X, StackedDenoisingPretraining(layerwise_epochs=1, finetune_epochs=1), 1, 32,
                            torch.optim.Adam, {"lr": 1e-3}, torch.Generator().manual_seed(0)),
    lambda net, X: StackedDenoisingPretraining(layerwise_epochs=1, finetune_epochs=1).run(
        net, X, 32, torch.Generator().manual_seed(0)),
], ids=["pretrain", "schedule_run"])
def test_pretraining_leaves_the_global_random_states_as_they_were(call):
    """Dropout of the stacked denoising schedule draws from torch's global generator: either public way of
    running it gives it back."""
    import random
    X = torch.rand(64, 6)
    before = torch.get_rng_state(), np.random.get_state()[1].copy(), random.getstate()
    autoencoder = FeedforwardAutoencoder(layers=[6, 8, 3])
    torch.set_rng_state(before[0])  # the network's construction drew from it: start from the same state
    call(autoencoder, X)
    assert autoencoder.fitted
    assert torch.equal(torch.get_rng_state(), before[0])
    assert np.array_equal(np.random.get_state()[1], before[1]) and random.getstate() == before[2]


@pytest.mark.parametrize("call, error, message", [
    (lambda net, X: pretrain(net, X.numpy(), None, 1, 32, torch.optim.Adam, {}, torch.Generator()),
     TypeError, "X must be a torch.Tensor"),
    (lambda net, X: pretrain(net, X.double(), None, 1, 32, torch.optim.Adam, {}, torch.Generator()),
     TypeError, "network's dtype torch.float32"),
    (lambda net, X: pretrain(torch.nn.Linear(6, 3), X, None, 1, 32, torch.optim.Adam, {}, torch.Generator()),
     TypeError, "encode and decode"),
    (lambda net, X: pretrain(net, X[0], None, 1, 32, torch.optim.Adam, {}, torch.Generator()),
     ValueError, "non-empty batch"),
    (lambda net, X: pretrain(net, X[:0], None, 1, 32, torch.optim.Adam, {}, torch.Generator()),
     ValueError, "non-empty batch"),
    (lambda net, X: pretrain(net, X * float("nan"), None, 1, 32, torch.optim.Adam, {}, torch.Generator()),
     ValueError, "NaN or infinite"),
    (lambda net, X: pretrain(net, X, None, 1, 32, torch.optim.Adam, {}, torch.Generator(), augment="rotate"),
     TypeError, "augment must be a callable"),
    (lambda net, X: embed(net, X.numpy()), TypeError, "X must be a torch.Tensor"),
    (lambda net, X: embed(net, X, batch_size=0), ValueError, "batch_size")])
def test_pretrain_and_embed_name_bad_arguments(call, error, message):
    network = FeedforwardAutoencoder(layers=[6, 8, 3])
    with pytest.raises(error, match=message):
        call(network, torch.rand(40, 6))
    assert not network.fitted


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX")
def test_a_process_forked_while_another_thread_pretrains_can_pretrain():
    """The lock that makes threads take turns with the global random state is held by a thread of the parent
    while it pretrains; a forked child has no such thread and must not wait for it."""
    import multiprocessing
    import threading
    entered, release = threading.Event(), threading.Event()

    def blocking(x, generator):
        entered.set()
        release.wait(60)
        return x

    X = torch.rand(64, 6)
    schedule = StackedDenoisingPretraining(layerwise_epochs=1, finetune_epochs=1)
    holder = threading.Thread(target=pretrain, args=(FeedforwardAutoencoder(layers=[6, 8, 3]), X, None, 1, 64,
                                                     torch.optim.Adam, {}, torch.Generator()),
                              kwargs={"augment": blocking})
    holder.start()
    try:
        assert entered.wait(60)
        child = multiprocessing.get_context("fork").Process(
            target=pretrain, args=(FeedforwardAutoencoder(layers=[6, 8, 3]), X, schedule, 1, 32, torch.optim.Adam,
                                   {}, torch.Generator()))
        child.start()
        child.join(60)
        alive = child.is_alive()
        if alive:
            child.kill()
        assert not alive and child.exitcode == 0
    finally:
        release.set()
        holder.join(60)
