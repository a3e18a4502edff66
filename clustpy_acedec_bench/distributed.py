"""
The distributed benchmark (``clustpy-acedec-bench --distributed``): the same fit on one process and on several,
each rank holding one shard of a real data set, and what it costs per epoch and what it communicates per step.

Every world size G runs in G fresh processes (``multiprocessing`` spawn) that form a torch.distributed process
group on 127.0.0.1: gloo on the CPU, NCCL on CUDA with rank r on ``cuda:r``; one torch thread per rank. The data
set is split into G consecutive near-equal shards (``np.array_split``); rank r fits on shard r with the global
batch size of the one-process fit, so that every G trains the same model, up to rounding (see quality below;
``clustpy_acedec.distributed``).
Each rank writes its result to JSON files (rank 0 also the gathered labels, as .npz); nothing is pickled, and only
the launching process prints.

Reported per world size:

- seconds per epoch: ``fit_seconds_["clustering"]`` / clustering epochs and ``fit_seconds_["pretraining"]`` /
  pretraining epochs (the pretraining phase also builds the network and encodes the data set once), of rank 0;
  the slowest rank's beside it. The initialisation runs on the whole gathered embedding on every rank, so it does
  not shrink with G.
- communication, counted from the fitted model (:func:`communication_per_step`): per clustering step one
  all-reduce of all trained parameters' gradients (4 bytes each), one of the mini-batch centre statistics
  ((ΣK) x (d + 1) floats: sums and counts) per DCN / ENRC objective, one of the batch's cluster frequencies (K floats)
  per DEC / IDEC objective, and one of the cluster sizes (S·K_max floats) for ENRC's Eq. 4 normalisation; per
  epoch the epoch loss, the shared space's mean (ACeDeC) and the DEC centres' epoch counts. That is the
  all-reduce *payload*; a ring all-reduce moves about 2·(G−1)/G of it in and out of each rank (the *traffic*).
  The count is checked against the bytes that ``torch.distributed.all_reduce`` was actually called with during
  the clustering phase (a wrapper in every rank, which also times the calls: on gloo they block, so their time
  includes waiting for the slower rank).
- quality: the NMI of the gathered labels against the ground truth, and whether they equal the labels of the
  smallest world size (normally the one-process fit); where not, the NMI between the two. The ranks' gradients
  are summed in another order than one process sums them, so the models can differ from the first steps on in
  the last bits of float32, and an optimiser amplifies that over hundreds of steps: on a long schedule the clusterings
  agree closely but not exactly, and the initialisation may number the clusters differently.
"""

import contextlib
import dataclasses
import datetime
import json
import math
import multiprocessing
import os
import re
import socket
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

#: the estimators the benchmark can fit (ACeDeC with a DCN base; ENRC with [K, 1] clusters on a data set of one
#: ground truth, with its ground truths' numbers of clusters otherwise)
DISTRIBUTED_METHODS = ("ACeDeC", "ENRC")

#: torch threads of every rank: the ranks of a CPU run compete for the same cores
RANK_THREADS = 1

#: the process group's timeout: a rank that waits longer in a collective (its peer died) fails
GROUP_TIMEOUT_S = 600

#: how long the launcher waits for the ranks of one world size before it kills them
RUN_LIMIT_S = 3 * 3600


@dataclass(frozen=True)
class DistributedPlan:
    """
    What ``--distributed`` runs: every method on every data set at every world size.

    Parameters
    ----------
    datasets : tuple
        names for :func:`clustpy_acedec_bench.datasets.load_dataset` (default: USPS, 9,298 x 256)
    methods : tuple
        subset of :data:`DISTRIBUTED_METHODS` (default: ACeDeC)
    world_sizes : tuple
        numbers of processes, each run in fresh processes (default: 1 and 2)
    device : str
        "cpu" (gloo) or "cuda" (NCCL, rank r on cuda:r) (default: "cpu")
    max_samples : int | None
        a seeded random subset of at most this many points (default: None, the whole data set)
    pretrain_epochs : int
        epochs of the autoencoder's pretraining (default: 10)
    clustering_epochs : int
        clustering epochs (default: 10)
    batch_size : int
        the global batch size, the same at every world size (default: 256)
    embedding_size : int
        d (default: 10)
    init_iterations : int
        iterations of the initial phase (default: 500)
    init_rounds : int
        initial candidates (default: 1)
    pretraining : str
        the autoencoder's pretraining procedure (default: "end_to_end")
    precision : str
        "float32" or "bfloat16" (default: "float32")
    seed : int
        seed of the subset, the network and the estimators (default: 0)
    data_dir : str | None
        folder of the .npz files (default: None, the loaders' default)
    warm_up : bool
        one untimed tiny fit in every rank first, so that one-time costs of torch are not timed (default: True)
    """
    datasets: tuple = ("USPS",)
    methods: tuple = ("ACeDeC",)
    world_sizes: tuple = (1, 2)
    device: str = "cpu"
    max_samples: int | None = None
    pretrain_epochs: int = 10
    clustering_epochs: int = 10
    batch_size: int = 256
    embedding_size: int = 10
    init_iterations: int = 500
    init_rounds: int = 1
    pretraining: str = "end_to_end"
    precision: str = "float32"
    seed: int = 0
    data_dir: str | None = None
    warm_up: bool = True

    @property
    def backend(self) -> str:
        """The torch.distributed backend: NCCL on CUDA, gloo on the CPU."""
        return "nccl" if self.device.startswith("cuda") else "gloo"

    def check(self) -> None:
        """Raise ValueError for an unknown method or data set, a non-positive size or more ranks than CUDA
        devices."""
        from clustpy_acedec_bench.datasets import LOADERS
        unknown = [m for m in self.methods if m not in DISTRIBUTED_METHODS]
        if unknown:
            raise ValueError(f"unknown distributed method(s) {unknown}; known: {', '.join(DISTRIBUTED_METHODS)}")
        unknown = [name for name in self.datasets if name not in LOADERS and not re.fullmatch(r"SYNTH-\d+", name)]
        if unknown:
            raise ValueError(f"unknown data set(s) {unknown}; known: {', '.join(LOADERS)}, SYNTH-<noise dimensions>")
        if not self.datasets or not self.methods or not self.world_sizes:
            raise ValueError("--distributed needs at least one data set, method and world size")
        sizes = [*self.world_sizes, self.batch_size, self.embedding_size, self.clustering_epochs, self.init_rounds]
        if min(sizes) < 1 or self.pretrain_epochs < 0 or self.init_iterations < 0 or \
                (self.max_samples is not None and self.max_samples < 1):
            raise ValueError("world sizes, batch size, embedding size, clustering epochs and init rounds must be "
                             "positive, pretraining epochs and init iterations non-negative")
        if self.device not in ("cpu", "cuda"):
            raise ValueError(f"--distributed runs on 'cpu' or 'cuda' (rank r on cuda:r), got {self.device!r}")
        if self.device == "cuda" and max(self.world_sizes) > torch.cuda.device_count():
            raise ValueError(f"{max(self.world_sizes)} ranks need as many CUDA devices (NCCL: one per rank), this "
                             f"machine has {torch.cuda.device_count()}")


def default_world_sizes(device) -> tuple:
    """
    The world sizes to compare on ``device``: 1 and 2 on the CPU; on CUDA 1, 2 and the number k of devices, none
    above k (NCCL needs a device per rank).
    """
    if torch.device(device).type != "cuda":
        return 1, 2
    k = torch.cuda.device_count()
    return tuple(sorted({g for g in (1, 2, k) if g <= k}))


def shard_bounds(n_samples: int, world_size: int) -> list:
    """(start, stop) of every rank's shard: consecutive parts whose sizes differ by at most one (the first
    ``n_samples % world_size`` ones are larger), as ``np.array_split`` cuts."""
    base, extra = divmod(n_samples, world_size)
    sizes = [base + (rank < extra) for rank in range(world_size)]
    starts = np.cumsum([0] + sizes[:-1]).tolist()
    return [(start, start + size) for start, size in zip(starts, sizes)]


# ------------------------------------------------------------------------------------------- the fit of a rank
def make_estimator(method: str, n_clusters: list, plan: DistributedPlan, device, **schedule):
    """
    The unfitted estimator of ``method`` with the plan's schedule (``schedule`` overrides fields of it, e.g.
    ``clustering_epochs=1`` for a warm-up).

    Parameters
    ----------
    method : str
        "ACeDeC" (DCN base, ``n_clusters[0]`` clusters) or "ENRC" (``n_clusters``, or [K, 1] for one ground truth)
    n_clusters : list
        the ground truths' numbers of clusters
    plan : DistributedPlan
        the schedule
    device : torch.device | str
        where the rank fits

    Returns
    -------
    ACeDeC | ENRC
    """
    from clustpy.deep import DCN
    from clustpy_acedec import ACeDeC, ENRC
    plan = dataclasses.replace(plan, **schedule)
    params = dict(batch_size=plan.batch_size, pretrain_epochs=plan.pretrain_epochs,
                  clustering_epochs=plan.clustering_epochs, embedding_size=plan.embedding_size, device=device,
                  random_state=plan.seed)
    own = dict(init_iterations=plan.init_iterations, init_rounds=plan.init_rounds, pretraining=plan.pretraining,
               precision=plan.precision, verbose=False)
    if method == "ACeDeC":
        return ACeDeC(base=DCN(n_clusters=n_clusters[0], **params), **own)
    if method == "ENRC":
        # one ground truth: ENRC's clustering of it beside a one-cluster (shared) space, as ACeDeC has
        return ENRC(n_clusters=list(n_clusters) if len(n_clusters) > 1 else [n_clusters[0], 1], **params, **own)
    raise ValueError(f"unknown distributed method {method!r}; known: {', '.join(DISTRIBUTED_METHODS)}")


def communication_per_step(model) -> dict:
    """
    What a distributed fit of ``model`` all-reduces in its clustering phase, counted from the fitted model: per
    step the gradients of every trained parameter and the batch statistics of its objectives, per epoch the
    epoch statistics. The payload is the same for every world size of two or more (one process communicates
    nothing).

    Parameters
    ----------
    model : ACeDeC | ENRC
        a fitted estimator

    Returns
    -------
    counts : dict
        ``trained_parameters``; per step in bytes ``gradient_bytes``, ``center_statistics_bytes`` (mini-batch
        k-means sums and counts, DCN and ENRC), ``frequencies_bytes`` (DEC / IDEC target distribution),
        ``cluster_sizes_bytes`` (ENRC Eq. 4), their sum ``payload_bytes_per_step`` and ``allreduces_per_step``;
        per epoch ``payload_bytes_per_epoch`` and ``allreduces_per_epoch``
    """
    from clustpy_acedec.losses import CLUSTER_SIZE
    network = model.model_
    # the clustering phase's optimiser trains every parameter of the model: autoencoder, V, β logits and learnable
    # (DEC) centres; mini-batch centres are buffers, moved by their own rule
    trained = [p for p in network.parameters() if p.requires_grad]
    step = dict(gradient_bytes=sum(p.numel() * p.element_size() for p in trained), center_statistics_bytes=0,
                frequencies_bytes=0, cluster_sizes_bytes=0)
    step_calls, epoch_bytes, epoch_calls = 1, 4, 1  # one flat gradient buffer; the epoch's loss, one float
    for objective in network.objectives:
        centers = getattr(objective, "centers", None)
        if isinstance(centers, torch.nn.Parameter):  # Student-t: the global batch's cluster frequencies
            step["frequencies_bytes"] += centers.shape[0] * 4
            step_calls += 1
            epoch_bytes += centers.shape[0] * 8  # the epoch's assignment counts (int64), for lost centres
            epoch_calls += 1
        elif isinstance(centers, torch.nn.Module):  # mini-batch k-means: per centre the sum and the count
            table = centers.centers
            step["center_statistics_bytes"] += table.shape[0] * (table.shape[1] + 1) * table.element_size()
            step_calls += 1
        mean = dict(objective.named_buffers(recurse=False)).get("mean")
        if mean is not None:  # ACeDeC's shared space: the epoch's sum and count of the embedded points
            epoch_bytes += (mean.numel() + 1) * mean.element_size()
            epoch_calls += 1
    if network.normalization == CLUSTER_SIZE:
        n_spaces = sum(len(objective.spaces) for objective in network.objectives)
        passes = 2 if _augmented(model) else 1  # the augmented batch's loss is normalised by its own sizes
        step["cluster_sizes_bytes"] = passes * n_spaces * network.n_clusters_max * 4
        step_calls += passes
    return dict(trained_parameters=sum(p.numel() for p in trained), **step,
                payload_bytes_per_step=sum(step.values()), allreduces_per_step=step_calls,
                payload_bytes_per_epoch=epoch_bytes, allreduces_per_epoch=epoch_calls)


def _augmented(model) -> bool:
    holder = getattr(model, "base_", model)  # ACeDeC's setting is its base's
    return bool(getattr(holder, "augmentation_invariance", False))


def ring_traffic(payload_bytes: float, world_size: int) -> float:
    """Bytes a ring all-reduce of ``payload_bytes`` sends (and receives) per rank: 2·(G−1)/G of the payload
    (reduce-scatter, then all-gather); 0 for one process."""
    return 2.0 * (world_size - 1) / world_size * payload_bytes


class AllReduceMeter:
    """
    Every ``torch.distributed.all_reduce`` while the block runs: when it was called, how many bytes, how long it
    took (meaningful where the call blocks, as on gloo; NCCL only enqueues). The core calls the function through
    the ``torch.distributed`` module, so wrapping the module's attribute sees every call.
    """

    def __enter__(self):
        import torch.distributed as dist
        self.calls = []  # (perf_counter at the call, bytes, seconds)
        self._dist, self._original = dist, dist.all_reduce

        def counted(tensor, *args, **kwargs):
            started = time.perf_counter()
            result = self._original(tensor, *args, **kwargs)
            self.calls.append((started, tensor.numel() * tensor.element_size(), time.perf_counter() - started))
            return result

        dist.all_reduce = counted
        return self

    def __exit__(self, *exc_info):
        self._dist.all_reduce = self._original
        return False

    def split(self, boundary: float) -> dict:
        """Calls, bytes and seconds before and after ``boundary`` (a ``perf_counter`` time)."""
        parts = {"before": [c for c in self.calls if c[0] < boundary],
                 "after": [c for c in self.calls if c[0] >= boundary]}
        return {name: {"calls": len(calls), "bytes": int(sum(c[1] for c in calls)),
                       "seconds": sum(c[2] for c in calls)} for name, calls in parts.items()}


def _rank_main(rank: int, world_size: int, port: int, job: dict, directory: str) -> None:
    """One rank of a world size: join the group, fit on this rank's shard, write the results (no printing)."""
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), LOCAL_RANK=str(rank),
                      WORLD_SIZE=str(world_size))
    torch.set_num_threads(RANK_THREADS)
    import torch.distributed as dist
    plan = DistributedPlan(**{k: tuple(v) if isinstance(v, list) else v for k, v in job["plan"].items()})
    device = torch.device("cpu")
    if plan.backend == "nccl":
        torch.cuda.set_device(rank)
        device = torch.device("cuda", rank)
    dist.init_process_group(plan.backend, timeout=datetime.timedelta(seconds=GROUP_TIMEOUT_S))
    report = {"rank": rank, "error": None}
    try:
        report.update(_fit_rank(rank, world_size, plan, job, device, Path(directory)))
    except Exception as error:  # reported to the launcher, which raises it
        report["error"] = f"{type(error).__name__}: {error}"
    with open(os.path.join(directory, f"rank{rank}.json"), "w") as file:
        json.dump(report, file)
    with contextlib.suppress(Exception):
        dist.destroy_process_group()


def _fit_rank(rank: int, world_size: int, plan: DistributedPlan, job: dict, device: torch.device,
              directory: Path) -> dict:
    from clustpy_acedec.distributed import gather_labels
    X = np.load(job["data"], mmap_mode="r")
    start, stop = shard_bounds(len(X), world_size)[rank]
    shard = np.array(X[start:stop])  # a writable copy of the mapped file's rows
    if plan.warm_up:
        # a few batches per rank; every rank takes part, as in every distributed fit
        small = min(len(shard), -(-4 * plan.batch_size // world_size))
        make_estimator(job["method"], job["n_clusters"], plan, device, pretrain_epochs=min(plan.pretrain_epochs, 1),
                       clustering_epochs=1, init_iterations=10, init_rounds=1).fit(shard[:small])
    estimator = make_estimator(job["method"], job["n_clusters"], plan, device)
    with AllReduceMeter() as meter:
        estimator.fit(shard)
        ended = time.perf_counter()
    seconds = estimator.fit_seconds_
    # the phases lie back to back and end with the fit; the initialisation, which all-reduces nothing, separates
    # the pretraining's all-reduces from the clustering phase's
    clustering_start = ended - seconds["prediction"] - seconds["clustering"]
    phases = meter.split(clustering_start - seconds["initialization"] / 2)
    gathered = gather_labels(estimator.labels_)
    if rank == 0:
        np.savez(directory / "labels.npz", labels=gathered)
    history = estimator.history_["clustering"]
    return {"n_local": int(len(shard)), "fit_seconds": dict(seconds), "clustering_steps": int(history.iterations),
            "clustering_epochs_run": len(history.epoch_losses),
            "initial_iterations": [int(r.iterations) for r in estimator.history_["initial"]],
            "communication": communication_per_step(estimator),
            "measured_pretraining": phases["before"], "measured_clustering": phases["after"]}


# ------------------------------------------------------------------------------------------- the launcher
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def _environment(**values):
    """Environment variables set while the ranks start (spawned processes copy the environment at start)."""
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def launch(world_size: int, job: dict, directory: Path, limit_s: float = RUN_LIMIT_S) -> list:
    """
    Run one world size in ``world_size`` fresh processes and return every rank's report.

    Raises
    ------
    RuntimeError
        when a rank failed, exited without a report or was still running after ``limit_s`` seconds
    """
    directory.mkdir(parents=True, exist_ok=True)
    for stale in (*directory.glob("rank*.json"), directory / "labels.npz"):
        stale.unlink(missing_ok=True)
    context = multiprocessing.get_context("spawn")
    port = _free_port()
    processes = [context.Process(target=_rank_main, args=(rank, world_size, port, job, str(directory)))
                 for rank in range(world_size)]
    threads = str(RANK_THREADS)
    with _environment(OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads):
        for process in processes:
            process.start()
    deadline = time.monotonic() + limit_s
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
    hung = [rank for rank, process in enumerate(processes) if process.is_alive()]
    for process in processes:
        if process.is_alive():
            process.kill()
            process.join()
    if hung:
        raise RuntimeError(f"ranks {hung} of {world_size} still running after {limit_s:.0f} s; killed")
    reports = []
    for rank, process in enumerate(processes):
        path = directory / f"rank{rank}.json"
        report = json.loads(path.read_text()) if path.exists() else None
        if report is None or report["error"] is not None:
            raise RuntimeError(f"rank {rank} of {world_size} failed (exit code {process.exitcode}): "
                               f"{report['error'] if report else 'no report'}")
        reports.append(dict(report, exit_code=process.exitcode))
    return reports


def _load_average() -> float | None:
    """The 1-minute load average: other processes on the machine take cores from the ranks."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower()


def run_distributed(plan: DistributedPlan, output, log: Callable[[str], None] | None = None) -> dict:
    """
    Fit every method of the plan on every data set at every world size.

    Parameters
    ----------
    plan : DistributedPlan
        what to run
    output : str | Path
        folder; the ranks' files go to ``output/distributed-runs/<data set>-<method>-<G>/``
    log : Callable[[str], None] | None
        called with one line per finished world size (e.g. ``print``)

    Returns
    -------
    result : dict
        "plan" (as a dict), "rows" (:func:`summarize` per data set, method and world size), "source", "cpu_count",
        "rank_threads", "load_before", "load_after"
    """
    from clustpy_acedec_bench.datasets import load_dataset
    from clustpy_acedec_bench.scaling import source_revision
    plan.check()
    runs = Path(output) / "distributed-runs"
    load_before, rows = _load_average(), []
    with tempfile.TemporaryDirectory(prefix="clustpy-acedec-distributed-") as scratch:
        for dataset in plan.datasets:
            data = load_dataset(dataset, plan.seed, plan.data_dir, plan.max_samples)
            data_path = Path(scratch) / f"{_slug(dataset)}.npy"
            np.save(data_path, np.ascontiguousarray(data.X, dtype=np.float32))  # every rank maps its shard of it
            for method in plan.methods:
                job = {"plan": asdict(plan), "method": method, "n_clusters": data.n_clusters, "data": str(data_path)}
                reference = None
                for world_size in sorted(plan.world_sizes):
                    directory = runs / f"{_slug(dataset)}-{_slug(method)}-{world_size}"
                    reports = launch(world_size, job, directory)
                    labels = np.load(directory / "labels.npz", allow_pickle=False)["labels"]
                    reference = reference or (world_size, labels)
                    row = summarize(reports, plan, dataset, method, data, labels, reference)
                    rows.append(row)
                    if log is not None:
                        log(f"{dataset} {method} G={world_size}: {row['clustering_seconds_per_epoch']:.2f} s per "
                            f"clustering epoch, payload {_bytes(row['payload_bytes_per_step'])}/step, NMI "
                            f"{', '.join(f'{v:.3f}' for v in row['nmi'])}, labels = G={reference[0]}: "
                            f"{row['labels_equal_reference']}")
    return {"plan": asdict(plan), "rows": rows, "source": source_revision(), "cpu_count": os.cpu_count(),
            "rank_threads": RANK_THREADS, "load_before": load_before, "load_after": _load_average()}


def summarize(reports: list, plan: DistributedPlan, dataset: str, method: str, data, labels: np.ndarray,
              reference: tuple) -> dict:
    """
    One row of the result: rank 0's timings, the slowest rank's, the counted and the measured communication,
    the NMI of the gathered ``labels``, and their agreement with ``reference`` = (world size, labels): equal, the
    fraction equal as numbered, and the NMI between the two.
    """
    from clustpy_acedec_bench.runner import score
    first, world_size = reports[0], len(reports)
    seconds, communication = first["fit_seconds"], first["communication"]
    epochs, steps = first["clustering_epochs_run"], first["clustering_steps"]
    collective = world_size > 1  # one process runs no collective
    payload = communication["payload_bytes_per_step"] if collective else 0
    counted = steps * payload + (epochs * communication["payload_bytes_per_epoch"] if collective else 0)
    measured = first["measured_clustering"]
    reference_size, reference_labels = reference
    return {
        "dataset": dataset, "method": method, "world_size": world_size, "backend": plan.backend,
        "exit_codes": [r["exit_code"] for r in reports], "n_samples": int(sum(r["n_local"] for r in reports)),
        "samples_per_rank": [r["n_local"] for r in reports],
        "pretrain_epochs": plan.pretrain_epochs, "clustering_epochs": epochs, "clustering_steps": steps,
        "fit_seconds": seconds,
        "pretraining_seconds_per_epoch": seconds["pretraining"] / plan.pretrain_epochs if plan.pretrain_epochs
        else None,
        "clustering_seconds_per_epoch": seconds["clustering"] / epochs,
        "clustering_seconds_per_epoch_slowest_rank": max(r["fit_seconds"]["clustering"] for r in reports) / epochs,
        "initialization_seconds": seconds["initialization"],
        **{key: communication[key] for key in ("trained_parameters", "gradient_bytes", "center_statistics_bytes",
                                               "frequencies_bytes", "cluster_sizes_bytes", "allreduces_per_step",
                                               "payload_bytes_per_epoch", "allreduces_per_epoch")},
        "payload_bytes_per_step": payload,
        "model_payload_bytes_per_step": communication["payload_bytes_per_step"],
        "traffic_bytes_per_rank_per_step": ring_traffic(payload, world_size),
        "counted_clustering_allreduce_bytes": counted,
        "measured_clustering_allreduce_bytes": measured["bytes"],
        "measured_clustering_allreduces": measured["calls"],
        # gloo's all-reduce blocks until the peers' data is in, NCCL's only enqueues: its time would mean nothing
        "allreduce_seconds_per_clustering_epoch": measured["seconds"] / epochs if collective and plan.backend == "gloo"
        else None,
        "measured_pretraining_allreduce_bytes": first["measured_pretraining"]["bytes"],
        **score(data, labels, method == "ENRC"),
        "reference_world_size": reference_size,
        "labels_equal_reference": bool(np.array_equal(labels, reference_labels)),
        "labels_agreement": float(np.mean(labels == reference_labels)),
        # the same clustering numbered differently counts as agreement here
        "nmi_to_reference": _column_nmi(reference_labels, labels),
    }


def _column_nmi(reference: np.ndarray, labels: np.ndarray) -> list:
    """NMI between two fits' labels, per clustering (column)."""
    from sklearn.metrics import normalized_mutual_info_score
    reference, labels = reference.reshape(len(reference), -1), labels.reshape(len(labels), -1)
    return [float(normalized_mutual_info_score(reference[:, s], labels[:, s])) for s in range(labels.shape[1])]


# ------------------------------------------------------------------------------------------- output
def write_distributed(result: dict, output, command: str = "", machine: str = "") -> dict:
    """
    Write distributed.json and distributed.md to ``output``.

    Parameters
    ----------
    result : dict
        from :func:`run_distributed`
    output : str | Path
        folder, created if needed
    command : str
        the command line, for the report
    machine : str
        a description of the machine, for the report

    Returns
    -------
    paths : dict
        "json", "md" -> Path
    """
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    paths = {kind: output / f"distributed.{kind}" for kind in ("json", "md")}
    paths["json"].write_text(json.dumps({**result, "command": command, "machine": machine}, indent=1))
    paths["md"].write_text(distributed_report(result, command, machine))
    return paths


def _bytes(value: float | None) -> str:
    """Bytes in binary units: '0 B', '44 B', '1.7 KiB', '10.69 MiB'."""
    if value is None:
        return ""
    for unit, size in (("GiB", 2 ** 30), ("MiB", 2 ** 20), ("KiB", 2 ** 10)):
        if value >= size:
            return f"{value / size:.2f} {unit}"
    return f"{value:.0f} B"


def _fmt(value, digits: int = 2) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def distributed_report(result: dict, command: str = "", machine: str = "") -> str:
    """The Markdown report: settings, a note on what the machine can show, one table of times and communication
    and one of the all-reduce payload per step."""
    plan, rows = result["plan"], result["rows"]
    cores = result.get("cpu_count")
    lines = ["# Distributed fit: one process against several", "",
             f"- command: `{command}`", f"- machine: {machine}",
             f"- ranks: spawned processes on 127.0.0.1, {rows[0]['backend'] if rows else plan['device']} backend, "
             f"{result.get('rank_threads')} torch thread(s) per rank; shards: consecutive near-equal parts",
             f"- schedule: {plan['pretrain_epochs']} pretraining ({plan['pretraining']}) + {plan['clustering_epochs']} "
             f"clustering epochs, global batch {plan['batch_size']}, d = {plan['embedding_size']}, "
             f"{plan['init_iterations']} initial iterations x {plan['init_rounds']} candidate(s), seed {plan['seed']}, "
             f"{plan['precision']}; ACeDeC with a DCN base, ENRC with [K, 1] clusters on one ground truth",
             f"- source: {result.get('source', '')}; load average (1 min) before / after: "
             f"{_fmt(result.get('load_before'))} / {_fmt(result.get('load_after'))}",
             "- s/epoch: `fit_seconds_` of rank 0 divided by the epochs (pretraining includes building the network "
             "and encoding the data set once); slowest rank in brackets. init: the initialisation, run on the whole "
             "gathered embedding by every rank. payload: bytes all-reduced per clustering step (gradients of all "
             "trained parameters, 4 B each, plus the batch statistics); traffic: what a ring all-reduce sends per "
             "rank, 2·(G−1)/G of the payload; counted = measured: the count from the model, times the steps and "
             "epochs, equals the bytes `torch.distributed.all_reduce` was called with in the clustering phase. "
             "all-reduce s/epoch: time inside those calls on rank 0, waiting for the other rank included", ""]
    ranks = max(plan["world_sizes"])
    free = (cores or 1) - (result.get("load_before") or 0.0)
    if plan["device"] == "cpu" and free < ranks:
        lines += [f"**This machine cannot show a speed-up.** It has {cores} CPU core(s) and a load average of "
                  f"{_fmt(result.get('load_before'), 1)} before the run (other jobs), so about {max(free, 0.0):.1f} "
                  f"free core(s) for {ranks} ranks of one thread each. The ranks take turns on the cores, with each "
                  "other and with the other jobs, instead of computing their parts of a batch at the same time, "
                  "and the time per epoch shows the cost of the distributed fit (all-reducing the gradients every "
                  "step, waiting for the slower rank) instead of its gain. What this run does show: the labels of "
                  "the distributed fit against the one-process fit's, and the bytes a step communicates. A speed-up "
                  "needs a free core, or a GPU, per rank.", ""]
    for dataset in dict.fromkeys(r["dataset"] for r in rows):
        for method in dict.fromkeys(r["method"] for r in rows if r["dataset"] == dataset):
            selected = [r for r in rows if r["dataset"] == dataset and r["method"] == method]
            single = next((r for r in selected if r["world_size"] == 1), None)
            lines += [f"## {method} on {dataset} ({selected[0]['n_samples']:,} points)", "",
                      "| ranks | points per rank | pretraining s/epoch | clustering s/epoch | speed-up (clustering) "
                      "| init (s) | payload/step | traffic/rank/step | all-reduces/step | counted = measured "
                      f"| all-reduce s/epoch | NMI | labels = G={selected[0]['reference_world_size']} |",
                      "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
            for r in selected:
                speedup = (f"{single['clustering_seconds_per_epoch'] / r['clustering_seconds_per_epoch']:.2f}×"
                           if single else "")
                agree = "yes" if r["labels_equal_reference"] else \
                    f"no: NMI {', '.join(f'{v:.3f}' for v in r['nmi_to_reference'])} to them " \
                    f"({100 * r['labels_agreement']:.1f} % equal as numbered)"
                checked = "yes" if r["counted_clustering_allreduce_bytes"] == r["measured_clustering_allreduce_bytes"] \
                    else f"no ({_bytes(r['counted_clustering_allreduce_bytes'])} / " \
                         f"{_bytes(r['measured_clustering_allreduce_bytes'])})"
                lines.append(
                    f"| {r['world_size']} | {' / '.join(f'{n:,}' for n in r['samples_per_rank'])} | "
                    f"{_fmt(r['pretraining_seconds_per_epoch'])} | {_fmt(r['clustering_seconds_per_epoch'])} "
                    f"({_fmt(r['clustering_seconds_per_epoch_slowest_rank'])}) | {speedup} | "
                    f"{_fmt(r['initialization_seconds'], 1)} | {_bytes(r['payload_bytes_per_step'])} | "
                    f"{_bytes(r['traffic_bytes_per_rank_per_step'])} | "
                    f"{r['allreduces_per_step'] if r['world_size'] > 1 else 0} | {checked} | "
                    f"{_fmt(r['allreduce_seconds_per_clustering_epoch'])} | "
                    f"{', '.join(f'{v:.3f}' for v in r['nmi'])} | {agree} |")
            r = selected[0]
            lines += ["", f"All-reduce payload of one clustering step with two or more ranks: "
                          f"{_bytes(r['model_payload_bytes_per_step'])} ({r['model_payload_bytes_per_step']:,} B) = "
                          f"gradients of {r['trained_parameters']:,} parameters ({_bytes(r['gradient_bytes'])}) + "
                          f"mini-batch centre sums and counts ({_bytes(r['center_statistics_bytes'])}) + DEC cluster "
                          f"frequencies ({_bytes(r['frequencies_bytes'])}) + ENRC cluster sizes "
                          f"({_bytes(r['cluster_sizes_bytes'])}); per epoch {_bytes(r['payload_bytes_per_epoch'])} "
                          f"in {r['allreduces_per_epoch']} all-reduce(s) (the epoch loss, the shared space's mean, "
                          f"DEC's epoch counts). {r['clustering_steps']} steps in {r['clustering_epochs']} epochs "
                          f"({math.ceil(r['clustering_steps'] / max(r['clustering_epochs'], 1))} per epoch).", ""]
    return "\n".join(lines) + "\n"
