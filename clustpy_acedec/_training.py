"""
The phases that train the subspace model, on the one epoch loop of :mod:`clustpy_acedec._epochs`.

The phases (:class:`Phase`): the autoencoder's pretraining (:mod:`clustpy_acedec.pretraining`, end to end or
layer-wise), the initial phase that trains V, β and the centres on the fixed embedding
(ACe/DeC §2.2, ENRC §2.6), and the clustering phase that trains everything (ACe/DeC Eq. 1, ENRC Eq. 9).
Precision and compilation of the steps: :mod:`clustpy_acedec._execution`.
"""

import enum
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from clustpy_acedec._epochs import augmented_batches, encode_all, run_epochs
from clustpy_acedec._execution import Execution
from clustpy_acedec._model import SubspaceClusteringModel
from clustpy_acedec._placement import DataPlacement, as_placement


class Phase(enum.Enum):
    """The phases that train the subspace model (pretraining, before them, trains the autoencoder alone)."""
    INITIAL = "initial"  # V, β and centres on the fixed embedding, L_comp + L_orth
    CLUSTERING = "clustering"  # everything, L_comp + L_rec (+ augmentation)


@dataclass
class PhaseRecord:
    """
    What one run of the initial or clustering phase did (kept in the estimators' ``history_``): its loss
    terms, the mean loss of every epoch, the learning rate of every parameter group at the start and the end,
    the re-initialisation sample size n_s it used and the centres it re-initialised (ENRC §2.8).
    """
    phase: Phase
    loss_terms: tuple = ()
    epoch_losses: list = field(default_factory=list)
    iterations: int = 0
    learning_rates: list = field(default_factory=list)
    final_learning_rates: list = field(default_factory=list)
    reinit_sample_size: int = 0
    reinitialized_centers: int = 0
    candidate_loss: float | None = None  # initial phase: the candidate's loss on the whole data set afterwards
    screening_loss: float | None = None  # initial phase: the score the screening ranked the candidate by, if any
    kept: bool = False  # initial phase: this candidate was kept for the clustering phase
    stopped_on_plateau: bool = False

    @property
    def final_loss(self) -> float:
        """Mean loss of the last epoch (NaN for a phase of no epochs)."""
        return self.epoch_losses[-1] if self.epoch_losses else float("nan")


@dataclass(frozen=True)
class Plateau:
    """
    When a phase's loss has stopped falling: the mean epoch loss over the last ``window`` iterations is no more
    than ``tol`` (relative) below the mean over the ``window`` iterations before them. Windows are counted in
    iterations, not epochs, so that the rule means the same on 2,000 and on 70,000 points; the losses are those
    the loop reads once per epoch anyway, so the rule costs no extra synchronisation.

    Parameters
    ----------
    tol : float
        relative improvement between two windows below which the loss counts as flat; 0 never stops
    window : int
        iterations per window (rounded up to whole epochs)
    """
    tol: float
    window: int = 250

    def reached(self, epoch_losses: list, iterations: int) -> bool:
        """Whether the losses of the epochs so far (``iterations`` in all) have reached a plateau."""
        if self.tol <= 0 or not epoch_losses:
            return False
        per_epoch = max(1, iterations // len(epoch_losses))
        epochs = -(-self.window // per_epoch)
        if len(epoch_losses) < 2 * epochs:
            return False
        recent = sum(epoch_losses[-epochs:]) / epochs
        before = sum(epoch_losses[-2 * epochs:-epochs]) / epochs
        return recent > (1.0 - self.tol) * before


def train_subspace_model(model: SubspaceClusteringModel, phase: Phase, X: "torch.Tensor | DataPlacement",
                         n_epochs: int, batch_size: int, optimizer: torch.optim.Optimizer,
                         generator: torch.Generator, *, embedded: torch.Tensor | None = None,
                         augment: Callable | None = None, scheduler=None, reinit_sample_size: int = 1000,
                         verbose: bool = False, desc: str | None = None, execution: Execution | None = None,
                         plateau: "Plateau | None" = None, record: PhaseRecord | None = None) -> PhaseRecord:
    """
    Mini-batch training of a :class:`SubspaceClusteringModel` in the initial or the clustering phase.

    Each step: the phase's loss of the batch, optimiser step, then the gradient-free centre updates (ENRC
    Eq. 6-7) with the assignments of that step - no alternation. After each epoch: running means are
    refreshed and lost centres re-initialised (ENRC §2.8). The iteration count of the re-initialisation
    threshold √iteration starts at 0 in every phase: a centre that the initialisation lost is then
    re-initialised right after the first clustering epoch.

    Parameters
    ----------
    model : SubspaceClusteringModel
        the model, on the data's device
    phase : Phase
        ``Phase.INITIAL``: the autoencoder stays fixed, the loss is L_comp + L_orth on the embedding, given as both
        ``X`` and ``embedded`` (ENRC Eq. 8);
        ``Phase.CLUSTERING``: the autoencoder trains, the loss is L_comp + L_rec (+ augmentation)
    X : torch.Tensor | DataPlacement
        the data set: a tensor on the device, or a placed data set
    n_epochs : int
        number of epochs
    batch_size : int
        size of the mini-batches
    optimizer : torch.optim.Optimizer
        optimiser over the parameters this phase trains
    generator : torch.Generator
        generator on the device (batch order, augmentation, re-initialisation samples)
    embedded : torch.Tensor | None
        enc(X) on the device; required by the initial phase, refused by the clustering phase
    augment : Callable | None
        ``augment(x, generator) -> x_aug`` for ACe/DeC's augmentation (§2.2); clustering phase only
    scheduler : torch.optim.lr_scheduler.LRScheduler | None
        stepped after every mini-batch
    reinit_sample_size : int
        n_s of ENRC §2.8 (default: 1000)
    verbose : bool
        show a progress bar
    desc : str | None
        progress-bar label (default: the phase's name)
    execution : Execution | None
        precision and compilation of the steps; None: float32, eager
    plateau : Plateau | None
        end the phase early when its loss has stopped falling (None: run every epoch)
    record : PhaseRecord | None
        continue the run this record describes (an initial candidate that survived the screening, see
        :func:`clustpy_acedec._estimator.screen_candidates`) for ``n_epochs`` more epochs, with the same ``model``
        and ``optimizer``: its iterations count on for §2.8's threshold and the plateau rule, and its losses and
        re-initialisations are added to it. None: a new run

    Returns
    -------
    PhaseRecord
        epoch losses, iterations and re-initialised centres of this run (``record`` when given)
    """
    if phase is Phase.INITIAL and (embedded is None or X is not embedded or augment is not None):
        raise ValueError("the initial phase trains on the fixed embedding: pass it as X and as embedded, and no "
                         "augmentation")
    if phase is Phase.CLUSTERING and embedded is not None:
        raise ValueError("the clustering phase trains the autoencoder: it takes no fixed embedding")
    if phase not in (Phase.INITIAL, Phase.CLUSTERING):
        raise ValueError(f"train_subspace_model runs Phase.INITIAL or Phase.CLUSTERING, got {phase}")
    data = as_placement(X)
    execution = execution if execution is not None else Execution(data.device)
    terms = (("compression", "orthogonality") if phase is Phase.INITIAL
             else ("compression", "reconstruction") + (("augmentation",) if augment is not None else ()))
    if record is None:
        record = PhaseRecord(phase, loss_terms=terms, learning_rates=[group["lr"] for group in optimizer.param_groups],
                             reinit_sample_size=min(reinit_sample_size, data.n_total))
    elif record.phase is not phase or record.loss_terms != terms:
        raise ValueError(f"cannot continue a record of the {record.phase.value} phase with loss terms "
                         f"{record.loss_terms} as the {phase.value} phase with {terms}")
    if phase is Phase.INITIAL:
        gradient = execution.gradient_step(model.initial_phase_loss, optimizer, batch_size)

        def losses(index: torch.Tensor, x: torch.Tensor) -> tuple:
            return gradient(x)  # X is the fixed embedding: x is the batch's rows of it
    else:
        gradient = execution.gradient_step(model.clustering_loss, optimizer, batch_size)
        transform = augmented_batches(data, generator, augment)

        def losses(index: torch.Tensor, x: torch.Tensor) -> tuple:
            return gradient(x, transform(x) if augment is not None else None)

    def step(index: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        loss, z, rotated, labels = losses(index, x)
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        model.after_step(z, rotated, labels)
        record.iterations += 1
        return loss

    def end_epoch(_: float) -> bool:
        model.end_epoch()
        record.reinitialized_centers += _reinitialize_lost(model, data, embedded, generator, reinit_sample_size,
                                                           record.iterations)
        record.stopped_on_plateau = plateau is not None and plateau.reached(record.epoch_losses, record.iterations)
        return record.stopped_on_plateau

    model.autoencoder.train(phase is Phase.CLUSTERING)
    record.epoch_losses = run_epochs(data, n_epochs, batch_size, generator, step, end_epoch=end_epoch,
                                     desc=desc or phase.value, verbose=verbose, epoch_losses=record.epoch_losses)
    record.final_learning_rates = [group["lr"] for group in optimizer.param_groups]
    model.autoencoder.eval()
    return record


def _reinitialize_lost(model: SubspaceClusteringModel, data: DataPlacement, embedded: torch.Tensor | None,
                       generator: torch.Generator, sample_size: int, iteration: int) -> int:
    """ENRC §2.8 after an epoch: every objective re-places the centres it lost, from a random sample of n_s points."""
    def sample() -> torch.Tensor:
        if data.shard is None:
            idx = torch.randperm(data.n_samples, generator=generator, device=generator.device)[:sample_size]
            z = embedded[idx] if embedded is not None else encode_all(model.autoencoder, data.take(idx))
        else:  # the same global sample on every rank, each sample encoded by the rank that holds it
            idx = torch.randperm(data.shard.n_total, generator=generator, device=generator.device)[:sample_size]
            z = data.shard.gather_samples(idx, lambda local: encode_all(model.autoencoder, data.take(local)))
        with torch.no_grad():
            return model.layer.rotate(z)

    with torch.no_grad():
        betas = model.layer.betas()
    n_reinitialized = sum(objective.reinitialize_lost(sample, betas, iteration) for objective in model.objectives)
    if n_reinitialized and data.shard is not None:
        # the re-placed centres are rank 0's, so that every rank holds bitwise the same ones
        for objective in model.objectives:
            data.shard.collective.broadcast_module_(objective)
    return n_reinitialized
