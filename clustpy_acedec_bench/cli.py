"""
``clustpy-acedec-bench`` (also ``python -m benchmarks``): run a benchmark profile and write its results and
report.

The parser is built from :mod:`clustpy_acedec_bench.names` alone, so that ``--help`` and argument errors answer
without importing torch; the benchmark's modules are imported once the arguments are parsed.
"""

import argparse
import contextlib
import dataclasses
import functools
import platform
import shlex
import sys
from pathlib import Path

from clustpy_acedec_bench.names import (ACTIVATIONS, DISTRIBUTED_DEFAULTS, DISTRIBUTED_METHODS, METHOD_NAMES,
                                        PRECISIONS, PRETRAINING_SCHEMES, PROFILE_NAMES, SCALING_DEFAULTS,
                                        SCALING_METHODS, SPEED_TASKS)
from clustpy_acedec_bench.openmp import passive_waiting_unless_set


def _numbers(values) -> str:
    """A list default as the user types it: ``1 2 3``."""
    return " ".join(str(v) for v in values)


def build_parser() -> argparse.ArgumentParser:
    """
    The command line of ``clustpy-acedec-bench``; every option states its default once, in its help text.

    Returns
    -------
    argparse.ArgumentParser
    """
    parser = argparse.ArgumentParser(
        prog="clustpy-acedec-bench",
        description="Reproduce the tables of ACe/DeC (IJCAI 2021) and ENRC (AAAI 2020) with this package and "
                    "clustpy's baselines; writes results.jsonl/.csv/.json and report.md (our values next to the "
                    "papers'). Finished runs are kept in results.jsonl: rerunning the command resumes.")
    profile = parser.add_mutually_exclusive_group()
    profile.add_argument("--quick", dest="profile", action="store_const", const="quick",
                         help="CPU smoke run, a few minutes: one seed, subsets, short schedules; CI runs it (the "
                              "default profile)")
    profile.add_argument("--cpu", dest="profile", action="store_const", const="cpu",
                         help="every data set at laptop scale: subsets of 2,000 points, 20 + 10 epochs, one seed")
    profile.add_argument("--paper", dest="profile", action="store_const", const="paper",
                         help="the papers' protocol: 10 seeds (20 for the SYNTH sets), full data, 100 + 150 epochs (SYNTH: 50 + 50); "
                              "the image sets of ACe/DeC pretrain with DEC's whole budget")
    # no choices=: the task is checked against speed.TASKS after parsing, which tests and users may extend
    profile.add_argument("--speed", metavar="TASK",
                         help=f"time ours against clustpy on the same schedule instead: {', '.join(SPEED_TASKS)}")
    profile.add_argument("--scaling", action="store_true",
                         help="time per clustering epoch and peak memory of ACeDeC(DCN) and ENRC against N, d and K "
                              "on Gaussian blobs instead; writes scaling.json/.csv/.md/.png (see --scaling-*)")
    profile.add_argument("--distributed", action="store_true",
                         help="the same fit on 1 and on several processes (torch.distributed, one shard of a real data "
                              "set per rank) instead: seconds per epoch, bytes all-reduced per step, NMI, labels "
                              "against the one-process fit; writes distributed.json/.md (see --distributed-*)")
    parser.set_defaults(profile=PROFILE_NAMES[0])
    parser.add_argument("--datasets", nargs="+", default=None, metavar="NAME",
                        help="only these data sets of the profile (default: all of the profile's; with "
                             f"--distributed {_numbers(DISTRIBUTED_DEFAULTS['datasets'])})")
    parser.add_argument("--methods", nargs="+", default=None, metavar="NAME",
                        help=f"only these methods, run in this order for each data set and seed (default: all of the "
                             f"profile's, in its order); known: {', '.join(METHOD_NAMES)} "
                             f"(--scaling: {', '.join(SCALING_METHODS)}; --distributed: "
                             f"{', '.join(DISTRIBUTED_METHODS)})")
    parser.add_argument("--seeds", nargs="+", type=int, default=None, metavar="SEED",
                        help="these seeds (default: the profile's; with --speed 0 1 2, with --scaling and "
                             "--distributed 0)")
    parser.add_argument("--device", default=None,
                        help="'cpu', 'cuda', 'cuda:1', ... (default: CUDA when available, else the CPU)")
    parser.add_argument("--data-dir", default=None, metavar="DIR",
                        help="folder of the .npz files (default: $CLUSTPY_ACEDEC_DATA or ../shared/data); missing "
                             "files fall back to clustpy's online loaders")
    parser.add_argument("--output", default="bench_output", metavar="DIR",
                        help="folder for results and report (default: %(default)s)")
    parser.add_argument("--precision", nargs="+", choices=PRECISIONS, default=[PRECISIONS[0]],
                        help=f"the precision of the pretraining and of our estimators (one value; clustpy's "
                             f"baselines run in float32); with --speed: run ours at each of these precisions "
                             f"(default: {PRECISIONS[0]})")
    parser.add_argument("--quiet", action="store_true",
                        help="no progress bars and no per-run lines, only the path of the report")
    parser.add_argument("--no-autoencoder-cache", dest="autoencoder_cache", action="store_false",
                        help="do not keep the pretrained autoencoders in OUTPUT/autoencoders (by default each "
                             "pretraining is saved there when it ends, so that a stopped benchmark resumes "
                             "without repeating it)")
    schedule = parser.add_argument_group("schedule (override the profile's for every selected data set, e.g. the "
                                         "paper protocol on a subset for a CPU run; with --speed, the task's: a few "
                                         "epochs give the seconds per epoch of a long schedule)")
    schedule.add_argument("--max-samples", type=int, default=None, metavar="N",
                          help="a random subset of at most N points per data set and seed")
    schedule.add_argument("--pretrain-epochs", type=int, default=None, metavar="E",
                          help="epochs of the autoencoder's pretraining")
    schedule.add_argument("--clustering-epochs", type=int, default=None, metavar="E",
                          help="clustering epochs of every deep method")
    schedule.add_argument("--pretraining", choices=PRETRAINING_SCHEMES, default=None,
                          help="the autoencoder's pretraining procedure")
    schedule.add_argument("--activation", choices=ACTIVATIONS, default=None,
                          help="the hidden activation of the feedforward autoencoder: clustpy's LeakyReLU(0.01) "
                               "(default) or DEC's ReLU; one per --output folder")
    scaling = parser.add_argument_group("scaling (with --scaling; --methods picks among ACeDeC, ENRC, --seeds "
                                        "takes one seed)")
    grid = SCALING_DEFAULTS
    scaling.add_argument("--scaling-sizes", nargs="+", type=int, default=list(grid["sizes"]), metavar="N",
                         help=f"numbers of points on the N axis (default: {_numbers(grid['sizes'])})")
    scaling.add_argument("--scaling-dims", nargs="+", type=int, default=list(grid["dims"]), metavar="D",
                         help=f"embedding sizes on the d axis (default: {_numbers(grid['dims'])})")
    scaling.add_argument("--scaling-clusters", nargs="+", type=int, default=list(grid["clusters"]), metavar="K",
                         help=f"numbers of clusters on the K axis (default: {_numbers(grid['clusters'])})")
    fixed = [grid["n_samples"], grid["embedding_size"], grid["n_clusters"]]
    scaling.add_argument("--scaling-fixed", nargs=3, type=int, metavar=("N", "D", "K"), default=fixed,
                         help=f"N, d and K held fixed on the other axes (default: {_numbers(fixed)})")
    scaling.add_argument("--scaling-epochs", type=int, default=grid["epochs"], metavar="E",
                         help="clustering epochs per fit; time per epoch = clustering phase / epochs "
                              "(default: %(default)s)")
    distributed = DISTRIBUTED_DEFAULTS
    group = parser.add_argument_group(
        f"distributed (with --distributed; every rank one fresh process with one torch thread, gloo on the CPU, NCCL "
        f"on CUDA with rank r on cuda:r; --datasets, --methods, --seeds (one), --max-samples, --pretraining, "
        f"--precision and --pretrain-epochs / --clustering-epochs apply, the latter two "
        f"{distributed['pretrain_epochs']} / {distributed['clustering_epochs']} unless given; ACeDeC has a DCN base)")
    group.add_argument("--distributed-ranks", nargs="+", type=int, default=None, metavar="G",
                       help="world sizes to compare (default: 1 2 on the CPU; on CUDA 1, 2 and the number of "
                            "devices, none above it)")
    group.add_argument("--distributed-batch-size", type=int, default=distributed["batch_size"], metavar="B",
                       help="the global batch size, the same at every world size (default: %(default)s)")
    group.add_argument("--distributed-init-iterations", type=int, default=distributed["init_iterations"],
                       metavar="I", help="iterations of the initial phase, one candidate (default: %(default)s)")
    return parser


def select_plans(profile: str, datasets=None, methods=None, seeds=None, schedule: dict | None = None) -> list:
    """The profile's plans, filtered (``methods`` also sets their order), with ``schedule`` (plan fields such as
    ``max_samples``; None values are ignored) overriding theirs; unknown names and non-positive sizes raise
    ValueError."""
    from clustpy_acedec_bench.methods import METHODS
    from clustpy_acedec_bench.profiles import PROFILES
    schedule = {name: value for name, value in (schedule or {}).items() if value is not None}
    for name, value in schedule.items():
        if isinstance(value, int) and value < (1 if name == "max_samples" else 0):
            raise ValueError(f"--{name.replace('_', '-')} must be {'positive' if name == 'max_samples' else 'at least 0'}"
                             f", got {value}")
    plans = [dataclasses.replace(plan, **schedule) for plan in PROFILES[profile]()]
    known_datasets = {p.name for p in plans}
    if len(known_datasets) < len(plans):
        raise ValueError(f"the {profile} profile lists a data set twice; one plan per data set shares one autoencoder")
    for name in datasets or []:
        if name not in known_datasets:
            raise ValueError(f"data set {name!r} is not in the {profile} profile: {', '.join(sorted(known_datasets))}")
    for name in methods or []:
        if name not in METHODS:
            raise ValueError(f"unknown method {name!r}; known: {', '.join(METHODS)}")
    selected = []
    for plan in plans:
        if datasets and plan.name not in datasets:
            continue
        if methods:  # in the order given: e.g. the minutes-long rows after the seconds-long ones of a seed
            plan.methods = [m for m in dict.fromkeys(methods) if m in plan.methods]
        if seeds:
            plan.seeds = list(dict.fromkeys(seeds))  # a repeated seed runs once
        if plan.methods:
            if plan.activation != "leaky_relu" and plan.network != "feedforward":
                raise ValueError(f"--activation applies to the feedforward autoencoder; {plan.name} runs the "
                                 f"{plan.network} one")
            pretrains = any(METHODS[name].uses_autoencoder for name in plan.methods)
            if plan.pretraining.startswith("stacked_denoising") and plan.network != "feedforward" and pretrains:
                # every deep run of the data set would fail (and be recorded as failed) at the pretraining
                raise ValueError(f"--pretraining {plan.pretraining} (DEC's layer-wise procedure) applies to the "
                                 f"feedforward autoencoder; {plan.name} runs the {plan.network} one: leave it out "
                                 "with --datasets")
            selected.append(plan)
    return selected


def _refuse_unused(args, mode: str, options: tuple) -> None:
    """A ValueError naming the given ``options`` (attribute names of ``args``, default None) that ``mode`` does not
    use: an option silently ignored would make the user believe it took effect."""
    given = [f"--{name.replace('_', '-')}" for name in options if getattr(args, name) is not None]
    if given:
        raise ValueError(f"{', '.join(given)} {'does' if len(given) == 1 else 'do'} not apply to {mode}")


def describe_machine(device: str) -> str:
    """The CPU or GPU a run used, in words, for the report's header."""
    import torch
    if device.startswith("cuda"):
        hardware = torch.cuda.get_device_name(torch.device(device))
    else:
        import os
        hardware = f"{platform.processor() or platform.machine()} CPU, {os.cpu_count()} cores, " \
                   f"{torch.get_num_threads()} torch threads, " \
                   f"OMP_WAIT_POLICY {os.environ.get('OMP_WAIT_POLICY', 'unset')}"
    return f"{hardware}; torch {torch.__version__}; Python {platform.python_version()}"


def main(argv: list | None = None) -> int:
    """The ``clustpy-acedec-bench`` command; returns the exit status."""
    passive_waiting_unless_set()  # before torch is loaded: see clustpy_acedec_bench.openmp
    args = build_parser().parse_args(argv)
    with _progress_bars(enabled=not args.quiet):
        if args.scaling:
            return _scaling(args, argv)
        if args.distributed:
            return _distributed(args, argv)
        return _speed(args, argv) if args.speed else _benchmark(args, argv)


def _benchmark(args, argv) -> int:
    from clustpy_acedec.devices import resolve_device
    from clustpy_acedec_bench.report import write_report
    from clustpy_acedec_bench.runner import run_plan
    try:
        schedule = dict(max_samples=args.max_samples, pretrain_epochs=args.pretrain_epochs,
                        clustering_epochs=args.clustering_epochs, pretraining=args.pretraining,
                        activation=args.activation)
        plans = select_plans(args.profile, args.datasets, args.methods, args.seeds, schedule)
        if len(args.precision) != 1:
            raise ValueError(f"--precision takes one value outside --speed, got {args.precision}")
        if not plans:
            raise ValueError(f"nothing to run: the {args.profile} profile runs none of the selected methods on the "
                             "selected data sets")
        device = str(resolve_device(args.device))  # e.g. --device cuda without CUDA: refused, no traceback
    except ValueError as error:
        print(f"clustpy-acedec-bench: {error}", file=sys.stderr)
        return 2
    output = Path(args.output)
    unavailable = []
    try:
        records = run_plan(plans, output, device=device, data_dir=args.data_dir, verbose=not args.quiet,
                           progress=not args.quiet, precision=args.precision[0],
                           autoencoder_cache=output / "autoencoders" if args.autoencoder_cache else None,
                           unavailable=unavailable)
    except ValueError as error:
        print(f"clustpy-acedec-bench: {error}", file=sys.stderr)
        return 2
    report = write_report(records, output, _command(argv), describe_machine(device), unavailable)
    print(f"report: {report}")
    if unavailable:
        print(f"clustpy-acedec-bench: not run, their data are not available: {', '.join(unavailable)} (see "
              "--data-dir; a rerun resumes)", file=sys.stderr)
        return 1
    return 0


def _command(argv) -> str:
    return "clustpy-acedec-bench " + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))


@contextlib.contextmanager
def _progress_bars(enabled: bool):
    """With --quiet every tqdm bar is off while the command runs, clustpy's baselines' own bars included (tqdm
    reads TQDM_DISABLE only at import, which has happened by now); the original is restored afterwards."""
    import tqdm
    original = tqdm.tqdm.__dict__["__init__"]  # the raw attribute: tqdm wraps __init__ in a descriptor itself
    if not enabled:
        tqdm.tqdm.__init__ = functools.partialmethod(tqdm.tqdm.__init__, disable=True)
    try:
        yield
    finally:
        tqdm.tqdm.__init__ = original


def _speed(args, argv) -> int:
    from clustpy_acedec.devices import resolve_device
    from clustpy_acedec_bench.speed import TASKS, compare, scheduled_task, speed_table
    schedule = dict(max_samples=args.max_samples, pretrain_epochs=args.pretrain_epochs,
                    clustering_epochs=args.clustering_epochs)
    try:
        if args.speed not in TASKS:
            raise ValueError(f"unknown speed task {args.speed!r}; known: {', '.join(sorted(TASKS))}")
        scheduled_task(args.speed, schedule)
        _refuse_unused(args, "--speed (a task names its data set and both sides)", ("datasets", "methods"))
        if args.pretraining is not None:
            raise ValueError("--pretraining does not apply to --speed (both sides pretrain end to end)")
        if args.activation is not None:
            raise ValueError("--activation does not apply to --speed (both sides use clustpy's network)")
        device = resolve_device(args.device)
    except ValueError as error:
        print(f"clustpy-acedec-bench: {error}", file=sys.stderr)
        return 2
    output = Path(args.output)
    rows = compare(args.speed, args.seeds or [0, 1, 2], device, args.data_dir, output, tuple(args.precision),
                   schedule)
    text = f"# Speed: {args.speed}\n\n- command: `{_command(argv)}`\n- machine: {describe_machine(str(device))}\n\n" + speed_table(rows)
    (output / f"speed_{args.speed}.md").write_text(text)
    print(text)
    return 0


def _scaling(args, argv) -> int:
    from clustpy_acedec.devices import resolve_device
    from clustpy_acedec_bench.scaling import ScalingGrid, run_scaling, write_scaling
    n_samples, embedding_size, n_clusters = args.scaling_fixed
    grid = ScalingGrid(sizes=tuple(args.scaling_sizes), dims=tuple(args.scaling_dims),
                       clusters=tuple(args.scaling_clusters), n_samples=n_samples, embedding_size=embedding_size,
                       n_clusters=n_clusters, epochs=args.scaling_epochs,
                       methods=tuple(args.methods or SCALING_METHODS), seed=(args.seeds or [0])[0])
    try:
        grid.check()
        _refuse_unused(args, "--scaling (synthetic data on the --scaling-* grid, in float32)",
                       ("datasets", "data_dir", "max_samples", "pretrain_epochs", "clustering_epochs", "pretraining",
                        "activation"))
        if args.precision != [PRECISIONS[0]]:
            raise ValueError(f"--precision does not apply to --scaling (it runs in {PRECISIONS[0]})")
        if args.seeds is not None and len(args.seeds) > 1:
            raise ValueError(f"--scaling runs one seed, got --seeds {' '.join(map(str, args.seeds))}")
        device = resolve_device(args.device)
    except ValueError as error:
        print(f"clustpy-acedec-bench: {error}", file=sys.stderr)
        return 2
    result = run_scaling(grid, device, log=None if args.quiet else print)
    paths = write_scaling(result, args.output, _command(argv), describe_machine(str(device)))
    print(f"report: {paths['md']}")
    return 0


def _distributed(args, argv) -> int:
    from clustpy_acedec.devices import resolve_device
    from clustpy_acedec_bench.distributed import (DistributedPlan, default_world_sizes, run_distributed,
                                                  write_distributed)
    defaults = DISTRIBUTED_DEFAULTS
    try:
        device = resolve_device(args.device)
        if len(args.precision) != 1:
            raise ValueError(f"--precision takes one value outside --speed, got {args.precision}")
        if args.activation is not None:
            raise ValueError("--activation does not apply to --distributed (clustpy's network)")
        if device.index is not None:
            raise ValueError(f"--distributed puts rank r on cuda:r: pass --device cuda, not {device}")
        if args.seeds is not None and len(args.seeds) > 1:
            raise ValueError(f"--distributed runs one seed, got --seeds {' '.join(map(str, args.seeds))}")
        plan = DistributedPlan(
            datasets=tuple(args.datasets or defaults["datasets"]), methods=tuple(args.methods or defaults["methods"]),
            world_sizes=tuple(dict.fromkeys(args.distributed_ranks or default_world_sizes(device))),
            device=device.type, max_samples=args.max_samples,
            pretrain_epochs=defaults["pretrain_epochs"] if args.pretrain_epochs is None else args.pretrain_epochs,
            clustering_epochs=(defaults["clustering_epochs"] if args.clustering_epochs is None
                               else args.clustering_epochs),
            batch_size=args.distributed_batch_size, init_iterations=args.distributed_init_iterations,
            pretraining=args.pretraining or "end_to_end", precision=args.precision[0], seed=(args.seeds or [0])[0],
            data_dir=args.data_dir)
        plan.check()
    except ValueError as error:
        print(f"clustpy-acedec-bench: {error}", file=sys.stderr)
        return 2
    try:
        result = run_distributed(plan, args.output, log=None if args.quiet else print)
    except (ValueError, RuntimeError) as error:
        print(f"clustpy-acedec-bench: {error}", file=sys.stderr)
        return 1
    paths = write_distributed(result, args.output, _command(argv), describe_machine(str(device)))
    print(f"report: {paths['md']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
