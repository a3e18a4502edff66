"""
What ACeDeC and ENRC share: the steps of their ``fit`` pipelines as private functions (start: seed,
autoencoder, pretraining, embedding; the best of the initial candidates; the clustering phase; the shared
fitted attributes). What a fitted estimator does (persistence, embedding new data) is
:mod:`clustpy_acedec._fitted`; the network itself is built and checked in :mod:`clustpy_acedec._network`.

Each estimator's ``fit`` calls these top to bottom; nothing here calls back into the estimator.

In a distributed fit (a torch.distributed process group of two or more processes, :mod:`clustpy_acedec.distributed`)
each rank passes its shard of the data set: the input is checked on every rank and an error raised on all of
them (:func:`checked_input`); the seed is rank 0's; pretraining and the clustering phase run sharded (global
batches, :mod:`clustpy_acedec._distributed`); the initial candidates train on the embedding gathered from all
ranks, the same computation on every rank as in one process; and the kept candidate and the final model are
rank 0's, broadcast, so that every rank ends with bitwise the same model.
"""

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from clustpy_acedec._validation import (Choice, Flag, check_data, check_optimizer_arguments,
                                        feature_names, grey_image_shape)
from clustpy_acedec._augmentation import RandomRotationShift, checked_augmentation
from clustpy_acedec.preprocessing import rotation_shift_augmentation
from clustpy_acedec._distributed import Collective, Shard, agreed, comparable, gathered_embedding
from clustpy_acedec._execution import PRECISIONS, Execution, make_optimizer, one_intra_op_thread
from clustpy_acedec._model import SubspaceClusteringModel
from clustpy_acedec._network import build_autoencoder, check_embedding_size, check_network_for_ranks, network_input
from clustpy_acedec._placement import PLACEMENT_MODES, DataPlacement
from clustpy_acedec.pretraining import run_pretraining
from clustpy_acedec._epochs import encode_all
from clustpy_acedec._training import Phase, PhaseRecord, Plateau, train_subspace_model

#: ENRC §3.2: β is learned faster than the network, "so that the feature space soft-assignments are updated
#: faster" (the paper starts β at 0.01 and does not give the network's rate of the clustering phase). β's
#: rate is this factor times the phase's rate: 0.01 in the initial phase (network rate 1e-3) and 1e-3 in the
#: clustering phase at clustpy's default 1e-4 (measurements behind this: docs/design.md).
BETA_LR_FACTOR = 10.0


#: numpydoc of the parameters on where and how a fit runs, the same for ACeDeC and ENRC (filled into their
#: docstrings by :func:`document_shared_parameters`)
EXECUTION_PARAMETERS_DOC = """\
    data_placement : str
        where the data set lives during the fit: "device" (copied to the device once), "host" (kept in host
        memory; every batch is gathered there, into pinned memory on CUDA, and copied with non_blocking=True,
        the next one on a side stream while the current one is computed) or "auto": "device" when the data set
        takes at most half (``placement.RESIDENT_FRACTION``) of the free memory of the CUDA device at the start
        of the fit, "host" otherwise; on the CPU always "device". Both give the same batches and results (on
        CUDA up to the order of atomic additions, which is not deterministic there); the embedding
        (n_samples x d) always stays on the device. ``predict`` and ``transform`` stream from the host when the fit
        did (``data_placement_``), otherwise they place as "auto" (default: "auto")
    precision : str
        "float32" or "bfloat16": run the forward passes of the pretraining and clustering steps under
        ``torch.autocast(dtype=torch.bfloat16)``; parameters, V, β, centres, the distances that decide the
        assignments and the losses stay float32, inference (labels, predict, transform) runs in float32
        (default: "float32")
    compile_step : bool
        compile every training step's forward pass with ``torch.compile`` (mode "reduce-overhead", i.e. CUDA
        graphs, on CUDA; the default mode elsewhere), with static shapes: the last, smaller batch of an epoch
        runs eagerly. If compilation fails, the fit warns once and continues eagerly (default: False)
"""


#: numpydoc of the ``augmentation`` parameter, the same for ACeDeC and ENRC (filled in as the one above)
AUGMENTATION_PARAMETER_DOC = """\
    augmentation : Callable | None
        with ``augmentation_invariance=True`` (ACeDeC: the base's): the image augmentation f of ACe/DeC §2.2,
        x_aug = f(x), a callable ``augmentation(x, generator) -> x_aug`` that takes a batch as the network takes
        it (on the fit's device) and a ``torch.Generator`` there to draw from, and returns the augmented batch in
        the same shape; used in pretraining and in the clustering phase, e.g.
        ``RandomRotationShift(image_shape, max_degrees=16, max_shear=8, fill=channel_means(images))`` from
        :mod:`clustpy_acedec.preprocessing` (``channels_first=True`` for the (N, C, H, W) batches of a
        convolutional network; in a distributed fit, the fill of all ranks' images).
        None: random rotations (±15°) and shifts (±10 %) that fill with the data set's mean per channel
        (:func:`clustpy_acedec.preprocessing.rotation_shift_augmentation`). Not stored by ``save`` (a loaded
        model has None, with a note) (default: None)
"""


def document_shared_parameters(estimator_class: type) -> type:
    """Class decorator: put :data:`EXECUTION_PARAMETERS_DOC` where the docstring says ``{execution_parameters}``
    and :data:`AUGMENTATION_PARAMETER_DOC` where it says ``{augmentation_parameter}``."""
    if estimator_class.__doc__ is None:  # python -OO strips docstrings
        return estimator_class
    doc = estimator_class.__doc__.replace("    {execution_parameters}\n", EXECUTION_PARAMETERS_DOC)
    estimator_class.__doc__ = doc.replace("    {augmentation_parameter}\n", AUGMENTATION_PARAMETER_DOC)
    return estimator_class


#: clustpy's optimiser arguments when a base (or ENRC) leaves them at None.
DEFAULT_PRETRAIN_OPTIMIZER_PARAMS = {"lr": 1e-3}
DEFAULT_CLUSTERING_OPTIMIZER_PARAMS = {"lr": 1e-4}

#: Default of ACeDeC's ``init_tol`` (ENRC's is 0): the initial phase stops when its loss falls by less than 1 % per
#: 250 iterations (:class:`clustpy_acedec._training.Plateau`).
INIT_TOL = 0.01

#: Default of ``init_screen_iterations`` (ACeDeC's; ENRC's with ``init="best"``): the candidates are compared after
#: a quarter of ENRC's 1,000 iterations (one window of the plateau rule); only the best third of them
#: (:func:`screening_survivors`) go on.
INIT_SCREEN_ITERATIONS = 250

#: Constraints of the parameters on where and how a fit runs, the same for ACeDeC and ENRC.
EXECUTION_CONSTRAINTS = {
    "data_placement": Choice(PLACEMENT_MODES),
    "precision": Choice(PRECISIONS),
    "compile_step": Flag(),
    "verbose": Flag(),
}


@dataclass(frozen=True)
class FitConfig:
    """
    Every hyperparameter of one fit, checked and resolved: built once by the estimator's ``fit`` from its
    parameters (and, for ACeDeC, its base's) and never changed. It has no defaults of its own: those are the
    estimators' (and the base's) ``__init__`` defaults.
    """
    name: str  # the estimator's class name, for progress bars and messages
    n_clusters: list
    batch_size: int
    pretrain_epochs: int
    clustering_epochs: int
    init_rounds: int
    init_iterations: int
    init_tol: float  # the initial phase ends when its loss falls by less than this per window (Plateau)
    init_screen_iterations: int  # after these, only the best third of the candidates go on (best_of_rounds)
    pretrain_optimizer_params: dict
    clustering_optimizer_params: dict
    optimizer_class: type
    neural_network: object
    neural_network_weights: object
    embedding_size: int
    min_embedding_size: int  # one dimension per space at least, checked on the network's embedding
    augmentation_invariance: bool
    augmentation: object  # the user's augment(x, generator) -> x_aug, or None: the rotations and shifts of §2.2
    image_shape: tuple | None
    pretraining: object  # a StackedDenoisingPretraining, or None for end-to-end pretraining
    reinit_sample_size: int  # n_s of ENRC §2.8
    reinit_lloyd_steps: int  # l of ENRC §2.8
    device: torch.device
    seed: int
    data_placement: str
    precision: str
    compile_step: bool
    verbose: bool

    def __post_init__(self):
        for name in ("pretrain_optimizer_params", "clustering_optimizer_params"):
            check_optimizer_arguments(self.optimizer_class, getattr(self, name), name)


@dataclass
class FitRun:
    """A running fit after its autoencoder is ready: what the initialisation and the phases work on."""
    config: FitConfig
    data: DataPlacement  # the data set, resident on the device or streamed from the host
    embedded: torch.Tensor  # enc(X) after pretraining, always on the device
    autoencoder: torch.nn.Module
    generator: torch.Generator  # on the device: batch order, augmentation
    cpu_generator: torch.Generator  # initialisation draws, identical on every device
    execution: Execution  # precision and compilation of the training steps
    augment: object  # augment(x, generator) -> x_aug: the user's augmentation or a RandomRotationShift; or None
    history: dict  # phase name -> PhaseRecord, or a list of them for the initial candidates
    clock: "_PhaseClock"
    collective: Collective | None = None  # the ranks of a distributed fit

    @property
    def device(self) -> torch.device:
        return self.config.device

    @property
    def full_batch_size(self) -> int:
        """The points of a full mini-batch (all ranks' together): the batch size, or the whole data set when it is
        smaller; what the centres' Eq. 7 expects per batch and §2.8 counts absences in."""
        return min(self.config.batch_size, self.data.n_total)


def checked_input(X, collective: Collective | None, estimator: str) -> tuple:
    """
    The data set checked (:func:`clustpy_acedec._validation.check_data`), the number of samples of the whole data
    set and the data's feature names (:func:`clustpy_acedec._validation.feature_names`, or None). In a distributed
    fit ``X`` is this rank's shard (one sample at least): every rank checks its own, the shards' sample shapes and
    column names must agree and the shards hold two samples together, every rank must fit the same ``estimator``
    (its class name), and every rank raises the error of any rank.

    Returns
    -------
    tuple : (np.ndarray, int, np.ndarray | None)
        the checked data, the number of samples of all shards together and the feature names
    """
    names = agreed(collective, lambda: feature_names(X))
    X = agreed(collective, lambda: check_data(X, min_samples=2 if collective is None else 1))
    if collective is None:
        return X, X.shape[0], names
    shapes = collective.all_gather_object((X.shape[0], tuple(X.shape[1:]), estimator))
    # before any step of one estimator's own: another estimator on a rank would run other collectives
    for rank, (_, _, other) in enumerate(shapes):
        if other != estimator:
            raise ValueError(f"the ranks of a distributed fit run different estimators: rank 0 {shapes[0][2]}, "
                             f"rank {rank} {other}")
    for rank, (_, shape, _) in enumerate(shapes):
        if shape != shapes[0][1]:
            raise ValueError(f"the ranks of a distributed fit hold samples of different shapes: rank 0 {shapes[0][1]}, "
                             f"rank {rank} {shape}")
    # frames whose columns differ between the shards would train on misaligned features
    all_names = collective.all_gather_object(None if names is None else list(names))
    for rank, rank_names in enumerate(all_names):
        if rank_names != all_names[0]:
            raise ValueError(f"the ranks of a distributed fit hold data frames with different column names: rank 0 "
                             f"{_first_names(all_names[0])}, rank {rank} {_first_names(rank_names)}")
    return X, sum(n for n, _, _ in shapes), names


def _first_names(names: list | None) -> str:
    if names is None:
        return "none (not a frame, or names that are not strings)"
    return repr(names[:5])[:-1] + (", ...]" if len(names) > 5 else "]")


#: Settings that may differ between the ranks of a distributed fit: the rest must agree, or the ranks would run
#: different steps (and wait for each other's collectives in vain).
PER_RANK_SETTINGS = ("name", "device", "seed", "verbose", "data_placement", "neural_network",
                     "neural_network_weights")


def for_this_rank(config: FitConfig, collective: Collective | None, estimator_params: dict) -> FitConfig:
    """
    The configuration a rank fits with: rank 0's seed (``random_state=None`` draws one per process), and
    progress bars only on rank 0.

    Parameters
    ----------
    config : FitConfig
        this rank's configuration
    collective : Collective | None
        the ranks of a distributed fit, or None
    estimator_params : dict
        the estimator's ``get_params(deep=True)``: its own settings (ENRC's ``loss_normalization``, ACeDeC's
        base class, ...) must agree as well

    Returns
    -------
    FitConfig

    Raises
    ------
    ValueError
        on every rank, when a setting that shapes the training steps differs between the ranks
    """
    if collective is None:
        return config
    shared = {f.name: comparable(getattr(config, f.name)) for f in dataclasses.fields(config)
              if f.name not in PER_RANK_SETTINGS}
    shared["device type"] = config.device.type  # the same seed draws other numbers on another kind of device
    for name, value in estimator_params.items():
        if name.rsplit("__", 1)[-1] not in (*PER_RANK_SETTINGS, "random_state"):
            shared[name] = type(value).__qualname__ if hasattr(value, "get_params") else comparable(value)
    for rank, other in enumerate(collective.all_gather_object(shared)):
        differing = [name for name in sorted(set(shared) | set(other)) if other.get(name) != shared.get(name)]
        if differing:
            raise ValueError(f"the ranks of a distributed fit must use the same settings, but rank {rank} has "
                             + ", ".join(f"{name}={other.get(name, '(none)')} (this rank: {shared.get(name, '(none)')})"
                                         for name in differing))
    return dataclasses.replace(config, seed=collective.broadcast_object(config.seed),
                               verbose=config.verbose and collective.is_main)


def start_fit(X: np.ndarray, config: FitConfig, collective: Collective | None = None) -> FitRun:
    """
    The first steps of every fit: seed, build the autoencoder, place the data, pretrain (unless the network is
    already fitted) and embed the data set once.

    Must run inside :class:`clustpy_acedec._random_state.preserved_global_random_state`: network weights and
    dropout draw from torch's global generator, which is seeded here. In a distributed fit ``X`` is this rank's
    shard; the network starts as rank 0's, and ``run.embedded`` is the embedding of all shards in rank order.
    """
    clock = _PhaseClock(config.device)
    torch.manual_seed(config.seed)
    # agreed: a network that one rank cannot build fails on every rank
    autoencoder = agreed(collective, lambda: build_autoencoder(
        int(np.prod(X.shape[1:])), config.neural_network, config.neural_network_weights, config.embedding_size,
        config.device, config.seed, warn=collective is None or collective.is_main))
    # agreed: a shard that cannot be placed (e.g. no room on one rank's device) fails on every rank
    data = agreed(collective, lambda: network_input(X, autoencoder, config.device, config.data_placement))
    if collective is not None:
        check_network_for_ranks(autoencoder, collective)
        collective.broadcast_module_(autoencoder)  # every rank starts from rank 0's network
        torch.manual_seed(config.seed + 1 + collective.rank)  # and draws its own dropout masks
        data.shard = Shard.of(collective, data.n_samples)
    # after the broadcast every rank holds the same network; agreed: a rank whose data the network cannot take
    # fails on every rank
    agreed(collective, lambda: check_embedding_size(autoencoder, data, config.min_embedding_size, config.name))
    generator = torch.Generator(device=config.device).manual_seed(config.seed)
    execution = Execution(config.device, config.precision, config.compile_step)
    augment = None
    if config.augmentation_invariance:
        augment = (checked_augmentation(config.augmentation) if config.augmentation is not None
                   else _augmentation(X, autoencoder, config.image_shape, collective))
    history = {}
    if not getattr(autoencoder, "fitted", False):
        run_pretraining(autoencoder, data, config.pretraining, config.pretrain_epochs, config.batch_size,
                        config.optimizer_class, config.pretrain_optimizer_params, generator, config.verbose,
                        execution, augment)
    embedded = encode_all(autoencoder, data)
    if collective is not None:
        embedded = gathered_embedding(embedded, data.shard, config.seed)
    if not bool(torch.isfinite(embedded).all()):  # every rank holds the whole embedding: all raise alike
        raise ValueError("the embedding of X has NaN or infinite values: pretraining diverged, or the given network "
                         "produces them; scale the data (e.g. z-score it) or lower the pretraining learning rate")
    clock.lap("pretraining")
    return FitRun(config, data, embedded, autoencoder, generator, torch.Generator().manual_seed(config.seed),
                  execution, augment, history, clock, collective)


def best_of_rounds(run: FitRun, make_candidate: Callable, n_rounds: int,
                   screening_score: Callable | None = None) -> tuple:
    """
    Initialisation rounds (ENRC §2.6, and ACe/DeC's candidates): every candidate gets the initial phase with
    the autoencoder fixed, and the one with the lowest loss on the whole embedded data set is kept.

    With ``init_screen_iterations`` (our addition, issue 20) the candidates are screened first
    (:func:`screen_candidates`): only the best third of them by ``screening_score`` complete the phase, and the
    kept candidate is the best of those.

    Parameters
    ----------
    run : FitRun
        the running fit; ``run.history["initial"]`` receives one record per candidate, with its whole-data loss
        (and its score at the screening)
    make_candidate : Callable
        ``make_candidate(round_index) -> SubspaceClusteringModel``, a fresh initial model on the device
    n_rounds : int
        number of candidates
    screening_score : Callable | None
        ``screening_score(model, embedded) -> float``, what the screening ranks the candidates by (lower is
        better), e.g. the whole-data loss with β at its optimum, :meth:`SubspaceClusteringModel.profiled_loss`
        (ACeDeC, whose candidates' β settle at different speeds); None: the whole-data loss every candidate was
        already scored with after its training (ENRC)

    Returns
    -------
    tuple : (SubspaceClusteringModel, np.ndarray)
        the kept candidate and its β before the initial phase
    """
    config = run.config
    screen_epochs, total_epochs = (initial_epochs(run, config.init_screen_iterations),
                                   initial_epochs(run, config.init_iterations))
    screen = n_rounds > 1 and 0 < screen_epochs < total_epochs
    # One generator per candidate (its batch order and re-initialisation samples), seeded before any trains: a
    # candidate trains the same whether the others are screened out or run through, and the clustering phase
    # draws the same stream however many initial iterations ran. Then the screening changes a fit only where it
    # keeps another candidate than the whole phase would.
    candidate_seeds = torch.randint(2 ** 62, (n_rounds,), generator=run.generator,
                                    device=run.generator.device).tolist()
    # Thousands of steps on batches of n x d with d ~ 10: intra-op threads only add synchronisation, and on a
    # machine whose cores are busy they make each tiny step wait for a descheduled thread. The candidates'
    # k-means (Lloyd steps on at most KMEANS_SAMPLE_SIZE x d) and their scoring are operations of that size too.
    with one_intra_op_thread():
        candidates = []
        for round_index in range(n_rounds):
            candidate = _InitialCandidate(make_candidate(round_index), run, candidate_seeds[round_index],
                                          desc=f"{config.name} initialisation {round_index + 1}/{n_rounds}")
            candidate.train_for(screen_epochs if screen else total_epochs)
            candidates.append(candidate)
        finalists = screen_candidates(candidates, total_epochs, screening_score) if screen else candidates
        best = min(finalists, key=lambda candidate: _ranked_loss(candidate.record.candidate_loss))
    best.record.kept = True
    records = [candidate.record for candidate in candidates]
    best, betas_init = best.model, best.initial_betas
    if run.collective is not None:
        # Every rank computed the same candidates, up to rounding where a device does not add deterministically
        # (CUDA's atomics), which could also change how many epochs a candidate ran: keep rank 0's candidate and
        # records bit for bit. The fit's generators drew only the candidates' starts and seeds here, the same on
        # every rank; their states are sent along so that the clustering phase starts identical all the same.
        run.collective.broadcast_module_(best)
        betas_init, records, generator_states = run.collective.broadcast_object(
            (betas_init, records, (run.generator.get_state(), run.cpu_generator.get_state())))
        run.generator.set_state(generator_states[0])
        run.cpu_generator.set_state(generator_states[1])
    run.history["initial"] = records
    run.clock.lap("initialization")
    return best, betas_init


def screen_candidates(candidates: list, total_epochs: int, screening_score: Callable | None) -> list:
    """
    The screening of the initial candidates (our addition, issue 20; successive halving with one rung): of
    candidates trained for the same number of epochs, the best third by ``screening_score`` on the whole
    embedding (at least one, :func:`screening_survivors`) train on to ``total_epochs``; the others are released.

    The screening compares the candidates after equal training. The final choice among the survivors does too,
    unless ``init_tol`` stops some of them on a plateau earlier than others (possible only with two or more
    survivors, e.g. ENRC's three with ``init_tol`` > 0).

    Parameters
    ----------
    candidates : list
        the :class:`_InitialCandidate` s, each trained to the screening and scored; their records receive the
        ``screening_loss``, the score they were ranked by
    total_epochs : int
        epochs of the whole initial phase
    screening_score : Callable | None
        ``screening_score(model, embedded) -> float``, lower is better; None: the candidates' whole-data loss
        (see :func:`best_of_rounds`)

    Returns
    -------
    list
        the survivors, trained and scored again
    """
    for candidate in candidates:
        candidate.record.screening_loss = (candidate.record.candidate_loss if screening_score is None
                                           else screening_score(candidate.model, candidate.run.embedded))
    ranked = sorted(range(len(candidates)), key=lambda i: _ranked_loss(candidates[i].record.screening_loss))
    # in round order: among survivors of equal loss the final choice keeps the earliest round, whatever the ranking's
    # ties (each candidate draws from its own generator, so the order they train in does not change their batches)
    survivors = sorted(ranked[:screening_survivors(len(candidates))])
    for index, candidate in enumerate(candidates):
        if index in survivors:
            candidate.train_for(total_epochs - len(candidate.record.epoch_losses))
        else:
            candidate.release()
    return [candidates[i] for i in survivors]


def screening_survivors(n_rounds: int) -> int:
    """How many of ``n_rounds`` screened candidates complete the initial phase: a third, at least one (3 of
    ENRC's 10, 1 of ACeDeC's 3; the measurements behind it: docs/design.md)."""
    return max(1, n_rounds // 3)


def _ranked_loss(loss: float) -> tuple:
    """Sort key of a candidate by a loss or score: a diverged candidate (NaN) ranks last."""
    return (math.isnan(loss), loss)


def initial_epochs(run: FitRun, iterations: int) -> int:
    """The epochs of the fixed embedding that hold ``iterations`` mini-batch iterations, rounded up."""
    batches_per_epoch = -(-run.embedded.shape[0] // run.config.batch_size)
    return -(-iterations // batches_per_epoch)


class _InitialCandidate:
    """
    One candidate of the initial phase and what it needs to be trained further: its model, optimiser and
    record, and its β before the phase.

    The initial phase trains V, β (and learnable centres; mini-batch centres keep following Eq. 6-7) on the
    fixed embedding for at most ``init_iterations`` mini-batch iterations, rounded up to whole epochs (ACe/DeC
    §2.2, ENRC §2.6), at the pretraining learning rate, and no longer than until the loss stops falling
    (``init_tol``, see :class:`clustpy_acedec._training.Plateau`): the phase is there for V and β to settle
    before the network moves, and on a small data set they settle long before a fixed iteration budget is spent.
    The autoencoder is fixed, so the embedding is computed once and L_orth (ENRC Eq. 8) stands in for the
    reconstruction.

    Parameters
    ----------
    model : SubspaceClusteringModel
        the fresh candidate, on the device
    run : FitRun
        the running fit (its embedding, execution and settings)
    seed : int
        seed of the candidate's own generator on the device (batch order, re-initialisation samples)
    desc : str
        progress-bar label
    """

    def __init__(self, model: SubspaceClusteringModel, run: FitRun, seed: int, desc: str):
        self.model, self.run, self.desc = model, run, desc
        self.generator = torch.Generator(device=run.generator.device).manual_seed(seed)
        self.initial_betas = model.layer.betas().detach().cpu().numpy()
        self.optimizer = subspace_optimizer(model, run.config.pretrain_optimizer_params, run.config.optimizer_class,
                                            train_autoencoder=False)
        self.record: PhaseRecord | None = None

    def train_for(self, epochs: int) -> None:
        """Train ``epochs`` more epochs (none once the phase stopped on its plateau), then score the candidate on
        the whole embedding (``record.candidate_loss``)."""
        config, embedded = self.run.config, self.run.embedded
        if self.record is not None and (self.record.stopped_on_plateau or epochs <= 0):
            return
        continued = self.record is not None
        self.record = train_subspace_model(self.model, Phase.INITIAL, embedded, max(epochs, 0), config.batch_size,
                                           self.optimizer, self.generator, embedded=embedded,
                                           reinit_sample_size=config.reinit_sample_size, verbose=config.verbose,
                                           desc=f"{self.desc}, continued" if continued else self.desc,
                                           execution=self.run.execution, plateau=Plateau(config.init_tol),
                                           record=self.record)
        self.record.candidate_loss = self.model.embedded_loss(embedded)

    def release(self) -> None:
        """Drop the model, optimiser and generator of a candidate that will not be trained further (its record
        stays)."""
        self.model = self.optimizer = self.generator = None


def clustering_phase(model: SubspaceClusteringModel, run: FitRun, scheduler: Callable | None = None) -> PhaseRecord:
    """
    Train the autoencoder, V, β and the centres together for ``clustering_epochs`` (ACe/DeC Eq. 1, ENRC Eq. 9);
    ``scheduler(optimizer)`` builds a learning-rate schedule stepped after every batch (ENRC's step decay).
    """
    config = run.config
    optimizer = subspace_optimizer(model, config.clustering_optimizer_params, config.optimizer_class,
                                   train_autoencoder=True)
    record = train_subspace_model(model, Phase.CLUSTERING, run.data, config.clustering_epochs, config.batch_size,
                                  optimizer, run.generator, augment=run.augment,
                                  scheduler=scheduler(optimizer) if scheduler is not None else None,
                                  reinit_sample_size=config.reinit_sample_size, verbose=config.verbose,
                                  desc=f"{config.name} clustering", execution=run.execution)
    run.history["clustering"] = record
    run.clock.lap("clustering")
    return record


def subspace_optimizer(model: SubspaceClusteringModel, params: dict, optimizer_class: type,
                       train_autoencoder: bool) -> torch.optim.Optimizer:
    """Optimiser over V, β (at BETA_LR_FACTOR times the rate, ENRC §3.2), learnable centres and optionally the
    autoencoder."""
    rate = params["lr"] if "lr" in params else _default_learning_rate(optimizer_class)
    beta_params = dict(params, lr=rate * BETA_LR_FACTOR)
    groups = [dict(params=[model.layer.V], **params),
              dict(params=[model.layer.beta_logits], **beta_params)]
    objective_params = [p for o in model.objectives for p in o.parameters()]
    if objective_params:
        groups.append(dict(params=objective_params, **params))
    if train_autoencoder:
        groups.append(dict(params=list(model.autoencoder.parameters()), **params))
    return make_optimizer(optimizer_class, groups)


def _default_learning_rate(optimizer_class: type) -> float:
    """The rate ``optimizer_class`` uses when none is given (Adam 1e-3, Adagrad and RMSprop 1e-2, ...)."""
    learning_rate = optimizer_class([torch.zeros(1, 1, requires_grad=True)]).defaults.get("lr")
    if not isinstance(learning_rate, (int, float)):
        raise ValueError(f"{optimizer_class.__name__} has no default learning rate: give 'lr' in the optimizer "
                         "parameters")
    return float(learning_rate)


def finish_fit(model: SubspaceClusteringModel, run: FitRun, X: np.ndarray, betas_init: np.ndarray) -> tuple:
    """
    The labels of the training data and the fitted attributes that ACeDeC and ENRC share: the model, V_ and
    betas_ (copies, not views of the model's tensors), betas_init_, shapes, history and timings. In a distributed
    fit: the labels of this rank's shard, with rank 0's model on every rank.
    """
    if run.collective is not None:
        run.collective.broadcast_module_(model)
    labels = predict_labels(model, run.data)
    run.clock.lap("prediction")
    with torch.no_grad():
        betas = model.layer.betas().cpu().numpy()
    attributes = dict(model_=model, neural_network_trained_=model.autoencoder,
                      V_=model.layer.V.detach().cpu().numpy().copy(), betas_=betas, betas_init_=betas_init,
                      n_features_in_=int(np.prod(X.shape[1:])), input_shape_=tuple(X.shape[1:]),
                      history_=run.history, fit_seconds_=run.clock.seconds,
                      data_placement_="host" if run.data.streamed else "device")
    return labels, attributes


def _augmentation(X: np.ndarray, autoencoder: torch.nn.Module, image_shape: tuple | None,
                  collective: Collective | None) -> RandomRotationShift:
    """
    The rotations and shifts of ACe/DeC §2.2 for the images of this fit.

    What they move into view is filled with the data set's mean per channel (over all ranks' shards; one rank:
    :func:`clustpy_acedec.preprocessing.rotation_shift_augmentation`): the 0 of the z-scored images, in whatever
    scale the user passes them, as in pipelines that standardise the images and then augment them with zero
    padding, rather than the background (black, clustpy's fill): the measurements behind the choice are in
    docs/design.md.

    Parameters
    ----------
    X : np.ndarray
        this rank's images: (n, H, W[, C]), (n, C, H, W) for a network with ``allow_nd_input``, or flattened rows
        with ``image_shape``
    autoencoder : torch.nn.Module
        the fit's network (convolutional ones take channels-first batches)
    image_shape : tuple | None
        (H, W[, C]) of flattened rows; None: read from ``X``
    collective : Collective | None
        the ranks of a distributed fit, every one of which calls this

    Returns
    -------
    RandomRotationShift
    """
    channels_first = bool(getattr(autoencoder, "allow_nd_input", False)) and X.ndim == 4
    if X.ndim > 2:  # images: the network's reading of them decides (H, W, C)
        layout = tuple(X.shape[1:]) if not channels_first else (*X.shape[2:], X.shape[1])
        if image_shape is not None and grey_image_shape(tuple(image_shape)) != grey_image_shape(layout):
            raise ValueError(f"image_shape {tuple(image_shape)} contradicts how the network reads the images of X, "
                             f"{'channels first' if channels_first else 'channels last'}: (H, W, C) = {layout}")
        image_shape = layout
    elif image_shape is None:
        raise ValueError("augmentation_invariance needs images: pass X as (n_samples, H, W[, C]) or set image_shape")
    images = X if X.ndim == len(image_shape) + 1 else X.reshape(len(X), *image_shape)
    augmentation = rotation_shift_augmentation(images, channels_last=not channels_first)
    if collective is None:
        return augmentation
    # the mean of the rank means, weighted by their sample counts
    shares = collective.all_gather_object((augmentation.fill, len(X)))
    fill = np.average([share[0] for share in shares], axis=0, weights=[share[1] for share in shares])
    return RandomRotationShift(augmentation.image_shape, channels_first=channels_first, fill=tuple(fill.tolist()))


class _PhaseClock:
    """Wall-clock seconds per phase of a fit; waits for the device at each lap, never inside a phase."""

    def __init__(self, device: torch.device):
        import time
        self._now, self._device, self.seconds = time.perf_counter, device, {}
        self._start = self._now()

    def lap(self, phase: str) -> None:
        if self._device.type == "cuda":
            torch.cuda.synchronize(self._device)
        now = self._now()
        self.seconds[phase] = now - self._start
        self._start = now


def predict_labels(model: SubspaceClusteringModel, X: "torch.Tensor | DataPlacement",
                   batch_size: int = 4096) -> np.ndarray:
    """Hard labels (N, S) of the data set (a tensor on the device or a placed data set), ENRC Eq. 5 per space."""
    embedded = encode_all(model.autoencoder, X, batch_size)
    return model.predict_embedded(embedded).cpu().numpy()
