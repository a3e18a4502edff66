"""
The autoencoder's pretraining: end to end on the reconstruction loss (clustpy's and the estimators' default), or
DEC's procedure (Xie et al. 2016, §3.2), which ACe/DeC §3 follows: greedy layer-wise denoising autoencoders with
dropout, then end-to-end fine-tuning of the stacked network without dropout.

Layer pair i of a fully connected autoencoder is encoder stage i (a Linear layer and what follows it up to
the next Linear) and the mirrored decoder stage. It is trained as a one-hidden-layer denoising autoencoder
that reconstructs the output of the encoder stages below it (fixed, computed once on the device) from a
dropout-corrupted copy, with dropout on its hidden layer too. The stages keep the network's own activations,
so a clustpy ``FeedforwardAutoencoder`` with a linear embedding and output gets exactly DEC's set-up.
The fixed inputs of a layer pair are kept where the data set is (:mod:`clustpy_acedec._placement`): on the
device, or in host memory for a streamed data set. With an augmentation (``augment``) every batch is a new
augmented one, so a layer pair's inputs are computed per batch from the images instead, and none are kept.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass, fields

import torch

from clustpy_acedec._execution import Execution, make_optimizer
from clustpy_acedec.losses import denoising_loss, reconstruction_loss
from clustpy_acedec._placement import DataPlacement, as_placement
from clustpy_acedec._epochs import augmented_batches, encode_all, run_epochs
from clustpy_acedec._random_state import preserved_global_random_state
from clustpy_acedec._validation import Integer, OptimizerClass, OrNone, Real, check_parameters, check_positive_int

#: The names the estimators' ``pretraining`` parameter accepts.
PRETRAINING_SCHEMES = ("end_to_end", "stacked_denoising", "stacked_denoising_full")

#: DEC's budget in optimiser steps (Xie et al. 2016, §4.3): per layer pair, and of the fine-tuning.
DEC_LAYERWISE_ITERATIONS = 50_000
DEC_FINETUNE_ITERATIONS = 100_000


def linear_stages(block: torch.nn.Sequential) -> list:
    """
    Split a Sequential into stages that each start with a Linear layer (Linear, [BatchNorm], [Dropout], act):
    the layers of DEC's layer pairs.

    Parameters
    ----------
    block : torch.nn.Sequential
        an encoder or decoder of fully connected layers

    Returns
    -------
    list
        one Sequential per Linear layer

    Raises
    ------
    TypeError
        if the block does not start with a Linear layer
    """
    stages = []
    for module in block:
        if isinstance(module, torch.nn.Linear):
            stages.append([module])
        elif stages:
            stages[-1].append(module)
        else:
            raise TypeError(f"expected the block to start with a Linear layer, got {type(module).__name__}")
    return [torch.nn.Sequential(*stage) for stage in stages]


def _layer_pairs(autoencoder: torch.nn.Module) -> list:
    """(encoder stage, mirrored decoder stage) from the outermost pair to the embedding."""
    try:
        encoder, decoder = linear_stages(autoencoder.encoder.block), linear_stages(autoencoder.decoder.block)
    except AttributeError:
        raise TypeError("stacked denoising pretraining needs a fully connected autoencoder with encoder.block and "
                        f"decoder.block (clustpy's FeedforwardAutoencoder), got {type(autoencoder).__name__}") from None
    if len(encoder) != len(decoder) or any(e[0].in_features != d[0].out_features
                                           for e, d in zip(encoder, reversed(decoder))):
        raise TypeError("stacked denoising pretraining needs a decoder that mirrors the encoder layer by layer")
    return list(zip(encoder, reversed(decoder)))


@dataclass
class StackedDenoisingPretraining:
    """
    DEC's pretraining schedule (Xie et al. 2016: 50,000 iterations per layer pair, 100,000 of fine-tuning,
    dropout 0.2, SGD with momentum 0.9, the learning rate divided by 10 every 20,000 iterations).

    The rate here is divided by 10 every 2/5 of each phase, in whole epochs (at 2/5 and 4/5 of it, as DEC's layer
    pairs: at 20,000 and 40,000 of 50,000 iterations; a phase of a few epochs, where 2/5 rounds down, decays more
    often). In the fine-tuning that is every 40,000 of DEC's 100,000 iterations, two divisions where DEC's code
    makes four; ``lr_decay_epochs`` sets another period for both phases.

    The defaults here are that schedule expressed in epochs of the data set, so that the estimators can
    derive it from ``pretrain_epochs``; :meth:`full` is DEC's budget in iterations, whatever the data set's
    size (on USPS at batch 256: 1,351 epochs per layer pair and 2,703 of fine-tuning). The loss is the mean
    squared error per feature (clustpy's convention), which is what the learning rate refers to: DEC's 0.1
    belonged to Caffe's summed loss on rescaled inputs; for data in [0, 1] and the per-feature mean, 1.0 is the
    rate that trains (as in the Keras port of DEC; the measurement is in docs/design.md).

    Parameters
    ----------
    layerwise_epochs : int
        epochs per layer pair (default: 50)
    finetune_epochs : int
        epochs of end-to-end fine-tuning (default: 100)
    dropout : float
        corruption of the inputs and of the hidden layer of each layer pair (default: 0.2)
    lr : float
        initial SGD learning rate (default: 1.0)
    momentum : float
        SGD momentum (default: 0.9)
    optimizer_class : type
        torch optimiser; SGD gets the momentum, others only the learning rate (default: torch.optim.SGD)
    max_grad_norm : float | None
        clip the gradient norm of every step to this value; it keeps the large rate from diverging
        (docs/user-guide.md, "Pretraining"); None: no clipping (default: 1.0)
    lr_decay_epochs : int | None
        divide the learning rate by 10 every this many epochs of a phase; None: every 2/5 of the phase (DEC's
        20,000 of 50,000 iterations of a layer pair) (default: None)
    layerwise_iterations : int | None
        the budget per layer pair in optimiser steps instead of ``layerwise_epochs``: that many steps rounded to
        whole epochs of the data set (default: None)
    finetune_iterations : int | None
        the same for the fine-tuning, instead of ``finetune_epochs`` (default: None)
    """
    layerwise_epochs: int = 50
    finetune_epochs: int = 100
    dropout: float = 0.2
    lr: float = 1.0
    momentum: float = 0.9
    optimizer_class: type = torch.optim.SGD
    max_grad_norm: float | None = 1.0
    lr_decay_epochs: int | None = None
    layerwise_iterations: int | None = None
    finetune_iterations: int | None = None

    def __post_init__(self):
        self.validate()

    def validate(self) -> None:
        """
        Check every field (a schedule's fields can change after it was made; the estimators check it again at
        ``fit``).

        Raises
        ------
        TypeError, ValueError
            naming the first field that breaks its constraint
        """
        check_parameters({field.name: getattr(self, field.name) for field in fields(self)}, _SCHEDULE_CONSTRAINTS)

    @classmethod
    def from_pretrain_epochs(cls, pretrain_epochs: int) -> "StackedDenoisingPretraining":
        """
        DEC's 1:2 ratio of layer-wise to fine-tuning iterations, fine-tuning for ``pretrain_epochs``.

        Parameters
        ----------
        pretrain_epochs : int
            epochs of fine-tuning; every layer pair gets half as many (at least 1)

        Returns
        -------
        StackedDenoisingPretraining
        """
        return cls(layerwise_epochs=max(1, pretrain_epochs // 2), finetune_epochs=pretrain_epochs)

    @classmethod
    def full(cls) -> "StackedDenoisingPretraining":
        """DEC's whole budget: 50,000 iterations per layer pair and 100,000 of fine-tuning (ACe/DeC §3)."""
        return cls(layerwise_iterations=DEC_LAYERWISE_ITERATIONS, finetune_iterations=DEC_FINETUNE_ITERATIONS)

    def phase_epochs(self, n_samples: int, batch_size: int) -> tuple:
        """
        The epochs each phase runs: the iteration budgets, where given, rounded to whole epochs (at least 1).

        Parameters
        ----------
        n_samples : int
            points of the data set
        batch_size : int
            points per optimiser step

        Returns
        -------
        tuple : (int, int)
            epochs per layer pair, epochs of fine-tuning
        """
        batches_per_epoch = -(-n_samples // batch_size)
        layerwise, finetune = self.layerwise_epochs, self.finetune_epochs
        if self.layerwise_iterations is not None:
            layerwise = max(1, round(self.layerwise_iterations / batches_per_epoch))
        if self.finetune_iterations is not None:
            finetune = max(1, round(self.finetune_iterations / batches_per_epoch))
        return layerwise, finetune

    def run(self, autoencoder: torch.nn.Module, X: "torch.Tensor | DataPlacement", batch_size: int,
            generator: torch.Generator, verbose: bool = False, execution: Execution | None = None,
            augment: Callable | None = None) -> torch.nn.Module:
        """
        Pretrain ``autoencoder`` in place on the data set X. The global random states are as before afterwards
        (the denoising dropout draws from torch's global generator).

        Parameters
        ----------
        autoencoder : torch.nn.Module
            a fully connected autoencoder on the data's device
        X : torch.Tensor | DataPlacement
            the data set: a tensor on the device, or a placed data set
        batch_size : int
            size of the mini-batches
        generator : torch.Generator
            generator on the device, for the batch order
        verbose : bool
            show progress bars (default: False)
        execution : Execution | None
            precision and compilation of the steps; None: float32, eager
        augment : Callable | None
            ``augment(x, generator) -> x_aug``: every layer pair and the fine-tuning train on augmented
            batches (a deeper pair on the codes of augmented images, computed per batch by the trained layers
            below it); None: on the data as is, with the codes of a deeper pair computed once

        Returns
        -------
        autoencoder : torch.nn.Module
            the trained autoencoder, in eval mode and marked ``fitted``
        """
        # dropout, the denoising corruption, draws from torch's global generator: the caller's is given back
        with preserved_global_random_state(generator.device):
            return self._run(autoencoder, X, batch_size, generator, verbose, execution, augment)

    def _run(self, autoencoder: torch.nn.Module, X: "torch.Tensor | DataPlacement", batch_size: int,
             generator: torch.Generator, verbose: bool = False, execution: Execution | None = None,
             augment: Callable | None = None) -> torch.nn.Module:
        """:meth:`run` inside a block that already keeps the global random state (a fit's, or :func:`pretrain`'s):
        its dropout draws continue the block's stream."""
        self.validate()
        data = as_placement(X)
        execution = execution if execution is not None else Execution(data.device)
        layerwise_epochs, finetune_epochs = self.phase_epochs(data.n_total, batch_size)
        corrupt = torch.nn.Dropout(self.dropout)
        inputs = data.flatten() if augment is None else data
        below = []  # the trained encoder stages under the current layer pair
        for depth, (encoder_stage, decoder_stage) in enumerate(_layer_pairs(autoencoder)):
            pair = torch.nn.Sequential(corrupt, encoder_stage, torch.nn.Dropout(self.dropout), decoder_stage)
            transform = None if augment is None else _codes_of_augmented(augment, below)
            self._train(pair, inputs, layerwise_epochs, batch_size, generator, execution, verbose,
                        f"layer pair {depth + 1}", transform)
            if augment is None:
                inputs = _apply(encoder_stage, inputs)
            below.append(encoder_stage)  # in evaluation mode since its pair's training ended
        whole = _Reconstruct(autoencoder)
        self._train(whole, data, finetune_epochs, batch_size, generator, execution, verbose, "fine-tuning",
                    augment)
        autoencoder.eval()
        autoencoder.fitted = True
        return autoencoder

    def _train(self, network: torch.nn.Module, data: DataPlacement, n_epochs: int, batch_size: int,
               generator: torch.Generator, execution: Execution, verbose: bool, desc: str,
               augment: Callable | None = None) -> None:
        """Train ``network`` to reconstruct its (flattened) input from the batches of ``data``, each first
        passed through ``augment(x, generator)`` when given."""
        params = {"lr": self.lr, "momentum": self.momentum} if self.optimizer_class is torch.optim.SGD else {"lr": self.lr}
        optimizer = make_optimizer(self.optimizer_class, network.parameters(), **params)
        decay_epochs = self.lr_decay_epochs or max(1, (2 * n_epochs) // 5)
        batches_per_epoch = -(-data.n_total // batch_size)
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, decay_epochs * batches_per_epoch, gamma=0.1)
        gradient = execution.gradient_step(_denoising_step(network), optimizer, batch_size)

        transform = augmented_batches(data, generator, augment)

        def step(_, x: torch.Tensor) -> torch.Tensor:
            loss = gradient(transform(x))
            if self.max_grad_norm is not None:
                torch.nn.utils.clip_grad_norm_(network.parameters(), self.max_grad_norm)
            optimizer.step()
            scheduler.step()
            return loss

        def check_finite(epoch_loss: float) -> None:
            if not math.isfinite(epoch_loss):
                raise FloatingPointError(f"stacked denoising pretraining diverged in {desc} (loss {epoch_loss}); "
                                         f"lower the learning rate (lr={self.lr}) or scale the data to [0, 1]")

        network.train()
        run_epochs(data, n_epochs, batch_size, generator, step, end_epoch=check_finite, desc=desc, verbose=verbose)
        network.eval()


def _denoising_step(network: torch.nn.Module) -> Callable:
    """The loss of a batch for a layer pair or the fine-tuning: per-feature MSE of network(x) against x."""
    def denoising_step(x: torch.Tensor) -> torch.Tensor:
        return denoising_loss(network(x).float(), x.flatten(1))
    return denoising_step


def _codes_of_augmented(augment: Callable, stages: list) -> Callable:
    """``(x, generator) -> stages(augment(x, generator))``: the input of a deeper layer pair for an augmented
    batch of images, through the trained encoder stages below it (fixed, in evaluation mode), flattened."""
    @torch.no_grad()
    def codes(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        x = augment(x, generator).flatten(1)
        for stage in stages:
            x = stage(x)
        return x
    return codes


@torch.no_grad()
def _apply(module: torch.nn.Module, inputs: DataPlacement, batch_size: int = 4096) -> DataPlacement:
    """module(inputs) in eval mode, batch by batch: the fixed input of the next layer pair, placed as inputs."""
    module.eval()
    return inputs.map(module, batch_size)


class _Reconstruct(torch.nn.Module):
    """decode(encode(x)) flattened, so fine-tuning uses the same step as the layer pairs."""

    def __init__(self, autoencoder: torch.nn.Module):
        super().__init__()
        self.autoencoder = autoencoder

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.autoencoder.decode(self.autoencoder.encode(x)).flatten(1)


#: what every field of a :class:`StackedDenoisingPretraining` must be
_SCHEDULE_CONSTRAINTS = {
    "layerwise_epochs": Integer(minimum=0), "finetune_epochs": Integer(minimum=0),
    "dropout": Real(0.0, 1.0, closed="left"), "lr": Real(0.0, math.inf), "momentum": Real(0.0, 1.0, closed="left"),
    "optimizer_class": OptimizerClass(), "max_grad_norm": OrNone(Real(0.0, math.inf)),
    "lr_decay_epochs": OrNone(Integer(minimum=1)), "layerwise_iterations": OrNone(Integer(minimum=1)),
    "finetune_iterations": OrNone(Integer(minimum=1)),
}


def resolve_pretraining(pretraining: "str | StackedDenoisingPretraining",
                        pretrain_epochs: int) -> "StackedDenoisingPretraining | None":
    """
    The estimators' ``pretraining`` parameter as a schedule: None for plain end-to-end training (the base's
    optimiser for ``pretrain_epochs``), a :class:`StackedDenoisingPretraining` for DEC's procedure: with
    ``pretrain_epochs`` of fine-tuning ("stacked_denoising") or DEC's whole budget in iterations
    ("stacked_denoising_full"). ``pretrain_epochs=0`` means no pretraining for every name.

    Parameters
    ----------
    pretraining : str | StackedDenoisingPretraining
        "end_to_end", "stacked_denoising", "stacked_denoising_full", or a schedule of one's own
    pretrain_epochs : int
        the estimator's (or its base's) ``pretrain_epochs``

    Returns
    -------
    StackedDenoisingPretraining | None

    Raises
    ------
    ValueError
        for an unknown name, or a schedule with a field out of range
    TypeError
        for a value that is neither a name nor a :class:`StackedDenoisingPretraining`, or a schedule with a field
        of the wrong type
    """
    if isinstance(pretraining, StackedDenoisingPretraining):
        pretraining.validate()
        return pretraining
    if not isinstance(pretraining, str):
        raise TypeError(f"pretraining must be one of {PRETRAINING_SCHEMES} or a StackedDenoisingPretraining, "
                        f"got {type(pretraining).__name__}")
    if pretraining not in PRETRAINING_SCHEMES:
        raise ValueError(f"pretraining must be one of {PRETRAINING_SCHEMES}, got {pretraining!r}")
    if pretraining == "end_to_end" or pretrain_epochs == 0:
        return None
    if pretraining == "stacked_denoising_full":
        return StackedDenoisingPretraining.full()
    return StackedDenoisingPretraining.from_pretrain_epochs(pretrain_epochs)


def pretrain(autoencoder: torch.nn.Module, X: "torch.Tensor | DataPlacement",
             schedule: "StackedDenoisingPretraining | None", n_epochs: int, batch_size: int, optimizer_class: type,
             optimizer_params: dict, generator: torch.Generator, verbose: bool = False,
             execution: "Execution | str | None" = None, augment: Callable | None = None) -> torch.nn.Module:
    """
    Pretrain ``autoencoder`` in place: by ``schedule`` when one is given (see :func:`resolve_pretraining`),
    else end to end on the reconstruction loss for ``n_epochs`` with the given optimiser (nothing for 0).

    This is what ACeDeC and ENRC do with an unfitted network; call it yourself to pretrain one network for
    several fits (pass it as ``neural_network``; a network marked ``fitted`` is not pretrained again).

    Parameters
    ----------
    autoencoder : torch.nn.Module
        the autoencoder (``encode``/``decode``), on the data's device
    X : torch.Tensor | DataPlacement
        the data set as the network takes it, on the network's device (or placed by the estimators)
    schedule : StackedDenoisingPretraining | None
        DEC's layer-wise schedule, or None for end-to-end training
    n_epochs, batch_size : int
        epochs of end-to-end training, and the mini-batch size
    optimizer_class : type
        torch optimiser of end-to-end training
    optimizer_params : dict
        its arguments, e.g. {"lr": 1e-3}
    generator : torch.Generator
        generator on the device, for the batch order
    verbose : bool
        progress bars (default: False)
    execution : Execution | str | None
        precision of the steps, "float32" or "bfloat16", or the estimators' ``Execution`` (None: float32)
    augment : Callable | None
        ``augment(x, generator) -> x_aug``, e.g. the estimators' own,
        :func:`clustpy_acedec.preprocessing.rotation_shift_augmentation` (``channels_last=False`` for the
        (N, C, H, W) batches of a convolutional network): train on augmented batches, as the estimators do with
        ``augmentation_invariance=True`` (default: None)

    Returns
    -------
    autoencoder : torch.nn.Module
        the trained network, marked ``fitted``

    Raises
    ------
    TypeError, ValueError
        naming the first argument of the wrong type or out of range

    Notes
    -----
    Dropout (of the stacked denoising schedule, or of the network) draws from torch's global generator; the
    global random states are the same after the call as before it, as after a fit.
    """
    _check_network_and_data(autoencoder, X)
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator on the data's device, got {generator!r}")
    check_positive_int(n_epochs, "n_epochs", minimum=0)
    check_positive_int(batch_size, "batch_size")
    OptimizerClass().check(optimizer_class, "optimizer_class")
    if not isinstance(optimizer_params, dict):
        raise TypeError(f"optimizer_params must be a dict of optimiser arguments such as {{'lr': 1e-3}}, "
                        f"got {optimizer_params!r}")
    if schedule is not None and not isinstance(schedule, StackedDenoisingPretraining):
        raise TypeError(f"schedule must be a StackedDenoisingPretraining or None, got {schedule!r}")
    if augment is not None and not callable(augment):
        raise TypeError(f"augment must be a callable augment(x, generator) -> x_aug or None, got {augment!r}")
    if execution is None or isinstance(execution, str):
        execution = Execution(generator.device, execution or "float32")
    with preserved_global_random_state(generator.device):
        return run_pretraining(autoencoder, X, schedule, n_epochs, batch_size, optimizer_class, optimizer_params,
                               generator, verbose, execution, augment)


def _pretrain_end_to_end(autoencoder: torch.nn.Module, X: "torch.Tensor | DataPlacement", n_epochs: int,
                         batch_size: int, optimizer_class: type, optimizer_params: dict, generator: torch.Generator,
                         verbose: bool = False, execution: Execution | None = None,
                         augment: Callable | None = None) -> torch.nn.Module:
    """
    Train a clustpy autoencoder end to end on the reconstruction loss, in place.

    Parameters
    ----------
    autoencoder : torch.nn.Module
        the autoencoder (``encode``/``decode``), on the data's device
    X : torch.Tensor | DataPlacement
        the data set: a tensor on the device, or a placed data set
    n_epochs : int
        number of epochs
    batch_size : int
        size of the mini-batches
    optimizer_class : type
        a torch optimiser class
    optimizer_params : dict
        its parameters, e.g. {"lr": 1e-3}
    generator : torch.Generator
        generator on the device, for the batch order
    verbose : bool
        show a progress bar
    execution : Execution | None
        precision and compilation of the steps; None: float32, eager
    augment : Callable | None
        ``augment(x, generator) -> x_aug``: train on augmented batches (reconstruct x_aug from x_aug), as the
        pretraining for ACe/DeC's augmentation (§2.2) and ENRC's image experiments (§3) does; None: the data as is

    Returns
    -------
    autoencoder : torch.nn.Module
        the trained autoencoder, in eval mode and marked ``fitted``
    """
    data = as_placement(X)
    execution = execution if execution is not None else Execution(data.device)
    optimizer = make_optimizer(optimizer_class, autoencoder.parameters(), **optimizer_params)

    def reconstruction(x: torch.Tensor) -> torch.Tensor:
        return reconstruction_loss(x, autoencoder.decode(autoencoder.encode(x)).float())

    gradient = execution.gradient_step(reconstruction, optimizer, batch_size)
    transform = augmented_batches(data, generator, augment)

    def step(_, x: torch.Tensor) -> torch.Tensor:
        loss = gradient(transform(x))
        optimizer.step()
        return loss

    autoencoder.train()
    run_epochs(data, n_epochs, batch_size, generator, step, desc="pretraining", verbose=verbose)
    autoencoder.eval()
    autoencoder.fitted = True
    return autoencoder


def run_pretraining(autoencoder: torch.nn.Module, X: "torch.Tensor | DataPlacement",
                    schedule: "StackedDenoisingPretraining | None", n_epochs: int, batch_size: int,
                    optimizer_class: type, optimizer_params: dict, generator: torch.Generator, verbose: bool,
                    execution: Execution, augment: Callable | None) -> torch.nn.Module:
    """
    :func:`pretrain` without its checks and without giving back torch's global generator: the estimators' step,
    inside a fit that has checked its settings and keeps the global random states itself (its later dropout
    draws continue from where pretraining left the generator).

    Parameters
    ----------
    autoencoder : torch.nn.Module
        the clustpy autoencoder, trained in place
    X : torch.Tensor | DataPlacement
        the data set as the network takes it
    schedule : StackedDenoisingPretraining | None
        DEC's layer-wise procedure, or None for end-to-end training
    n_epochs : int
        epochs of end-to-end training (0: none); a schedule brings its own
    batch_size : int
        size of the mini-batches
    optimizer_class : type
        the optimiser of end-to-end training
    optimizer_params : dict
        its arguments
    generator : torch.Generator
        generator on the data's device (batch order, augmentation)
    verbose : bool
        show progress bars
    execution : Execution
        precision and compilation of the steps
    augment : Callable | None
        ``augment(x, generator) -> x_aug``: pretrain on augmented batches

    Returns
    -------
    torch.nn.Module
        the trained ``autoencoder``
    """
    if schedule is not None:
        return schedule._run(autoencoder, X, batch_size, generator, verbose=verbose, execution=execution,
                             augment=augment)
    if n_epochs > 0:
        return _pretrain_end_to_end(autoencoder, X, n_epochs, batch_size, optimizer_class, optimizer_params,
                                    generator, verbose=verbose, execution=execution, augment=augment)
    return autoencoder


def _check_network_and_data(autoencoder: torch.nn.Module, X: "torch.Tensor | DataPlacement",
                            allow_empty: bool = False) -> None:
    """
    ``autoencoder`` an autoencoder and ``X`` a finite data set in its floating-point type, with samples unless
    ``allow_empty``.

    Raises
    ------
    TypeError
        for a network without ``encode``/``decode``, data that are not a tensor (or a ``DataPlacement``), or a
        dtype other than the network's
    ValueError
        for data without samples, with a single dimension, or with NaN or infinite values
    """
    if not isinstance(autoencoder, torch.nn.Module) or not hasattr(autoencoder, "encode") \
            or not hasattr(autoencoder, "decode"):
        raise TypeError(f"autoencoder must be a torch.nn.Module with encode and decode, got "
                        f"{type(autoencoder).__name__}")
    data = X.X if isinstance(X, DataPlacement) else X
    if not isinstance(data, torch.Tensor):
        raise TypeError(f"X must be a torch.Tensor on the network's device (torch.as_tensor(X, device=...)), got "
                        f"{type(X).__name__}")
    parameter = next(autoencoder.parameters(), None)
    if parameter is not None and data.dtype != parameter.dtype:
        raise TypeError(f"X must have the network's dtype {parameter.dtype}, got {data.dtype}")
    if data.ndim < 2 or (len(data) == 0 and not allow_empty):
        raise ValueError(f"X must be a non-empty batch of samples (n_samples, ...), got shape {tuple(data.shape)}")
    if not bool(torch.isfinite(data).all()):
        raise ValueError("X contains NaN or infinite values")


def embed(autoencoder: torch.nn.Module, X: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
    """
    enc(X) in evaluation mode, batch by batch, in float32: the embedding the estimators compute after
    pretraining.

    Parameters
    ----------
    autoencoder : torch.nn.Module
        the autoencoder, on X's device
    X : torch.Tensor
        the data set as the network takes it
    batch_size : int
        points per forward pass (default: 4096)

    Returns
    -------
    torch.Tensor
        shape (n_samples, embedding size), on X's device

    Raises
    ------
    TypeError, ValueError
        for a network without ``encode``/``decode``, data that are not a tensor of its dtype, or data that are
        not finite (no samples give an empty embedding)
    """
    _check_network_and_data(autoencoder, X, allow_empty=True)
    check_positive_int(batch_size, "batch_size")
    return encode_all(autoencoder, X, batch_size)
