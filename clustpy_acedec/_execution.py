"""
How the forward and backward pass of a training step run: in float32 or under bfloat16 autocast, eagerly or
compiled with ``torch.compile``, with an eager fallback.

Precision. "bfloat16" runs the forward passes of the training steps (pretraining and clustering) under
``torch.autocast(device_type, dtype=torch.bfloat16)``: the network's matrix products run in bfloat16, while the
parameters, the optimiser state, the gradients of the parameters and the loss stay in float32. The subspace
layer and the objectives (V^T z, the β-weighted distances that decide assignments, the centres, the
compression and reconstruction losses) always run in float32: :class:`clustpy_acedec._model.SubspaceClusteringModel`
switches autocast off around them, because autocast would otherwise run ``z @ V`` and the two matrix
products of :func:`clustpy_acedec._subspace.weighted_squared_distance` in bfloat16 (8 significant bits).
Inference passes (the embedding for the initialisation, the final labels, ``predict``) run in float32.
bfloat16 is fast on a CPU only where the hardware multiplies in it (x86: AVX512-BF16 or AMX); elsewhere torch
emulates it, many times slower than float32, so an x86 CPU without either gets a ``RuntimeWarning`` at the start
of the fit (the numbers are in docs/user-guide.md).

Compilation. ``compile_step=True`` compiles the step's loss function (forward; the backward follows through
AOTAutograd) with ``torch.compile(dynamic=False)``, in mode "reduce-overhead" (CUDA graphs) on CUDA and
the default mode elsewhere. Shapes are static, so the last, smaller batch of an epoch runs eagerly instead of
compiling a second graph (results stay those of the full data set; no batch is dropped). If compiling or
running the compiled step raises, a ``RuntimeWarning`` is issued once per fit and the fit continues eagerly;
the failed step is recomputed eagerly, so no step is lost. In a distributed fit every rank's batch has its own
size (its share of the global batch), so the step is compiled with dynamic shapes, in the default mode, and
every batch runs compiled; a failure there ends the fit (a rank that fell back alone would repeat collectives).

Distributed fits. After the backward pass the gradients are summed over the ranks
(:func:`clustpy_acedec._distributed.sum_gradients`; nothing happens outside a distributed fit).

Optimisers. :func:`make_optimizer` builds every optimiser of a fit with ``fused=True`` where the class offers
it (torch's Adam, AdamW, SGD, Adagrad) and the caller did not choose: the fused kernel updates all
parameters in one pass instead of a dozen elementwise passes over each tensor, the same arithmetic (the
timings are in docs/design.md).
"""

import contextlib
import functools
import inspect
from collections.abc import Callable

import torch

from clustpy_acedec._distributed import in_sharded_loop, sum_gradients
from clustpy_acedec._warning import warn_caller

#: The values of the estimators' ``precision`` parameter.
PRECISIONS = ("float32", "bfloat16")


class Execution:
    """
    Precision and compilation of the training steps of one fit.

    Parameters
    ----------
    device : torch.device | str
        the device of the fit (autocast and the compile mode depend on its type)
    precision : str
        "float32" or "bfloat16" (autocast of the forward passes) (default: "float32")
    compile_step : bool
        compile the loss function of every step with ``torch.compile`` (default: False)

    Attributes
    ----------
    compile_failed : bool
        set when a compiled step raised; later steps of the fit then run eagerly
    """

    def __init__(self, device: torch.device | str, precision: str = "float32", compile_step: bool = False):
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
        self.device = torch.device(device)
        self.precision = precision
        self.compile_step = bool(compile_step)
        self.compile_failed = False
        if precision == "bfloat16" and self.device.type == "cpu" and not native_bfloat16_on_cpu():
            warn_caller("precision='bfloat16' on a CPU without bfloat16 arithmetic (neither AVX512-BF16 nor AMX): "
                        "torch emulates it, many times slower than float32; precision='float32' is faster here",
                        RuntimeWarning)

    @property
    def compile_mode(self) -> str | None:
        """"reduce-overhead" (CUDA graphs) on CUDA, None (inductor's default) elsewhere."""
        return "reduce-overhead" if self.device.type == "cuda" else None

    def with_precision(self, function: Callable) -> Callable:
        """``function`` under bfloat16 autocast for precision "bfloat16", ``function`` itself otherwise."""
        if self.precision == "float32":
            return function
        device_type = self.device.type

        @functools.wraps(function)
        def autocast_function(*args):
            with torch.autocast(device_type, dtype=torch.bfloat16):
                return function(*args)

        return autocast_function

    def gradient_step(self, loss_function: Callable, optimizer: torch.optim.Optimizer,
                      batch_size: int) -> "GradientStep":
        """A :class:`GradientStep` of ``loss_function`` with this precision and compilation."""
        return GradientStep(loss_function, optimizer, self, batch_size)

    def fall_back(self, error: Exception) -> None:
        """Record a failed compilation and warn (once per fit)."""
        if not self.compile_failed:
            warn_caller(f"compile_step: torch.compile of the training step failed "
                        f"({type(error).__name__}: {error}); the fit continues eagerly", RuntimeWarning)
        self.compile_failed = True


class GradientStep:
    """
    One step's gradient computation: zero the gradients, compute the loss, backpropagate.

    Parameters
    ----------
    loss_function : Callable
        ``loss_function(x, *args)`` returns the loss, or a tuple whose first element is the loss
    optimizer : torch.optim.Optimizer
        whose gradients are zeroed before every step (the caller calls ``optimizer.step()``)
    execution : Execution
        precision and compilation
    batch_size : int
        the full batch size; only batches of this size run compiled (shapes are static)
    """

    def __init__(self, loss_function: Callable, optimizer: torch.optim.Optimizer, execution: Execution,
                 batch_size: int):
        self._eager = execution.with_precision(loss_function)
        self._compiled = self._compiled_dynamic = None
        if execution.compile_step and not execution.compile_failed:
            self._compiled = torch.compile(self._eager, mode=execution.compile_mode, dynamic=False)
        self._optimizer = optimizer
        self._execution = execution
        self._batch_size = batch_size

    def __call__(self, x: torch.Tensor, *args):
        """The outputs of ``loss_function(x, *args)``, after the backward pass of the loss (and, in a distributed
        fit, the sum of the gradients over the ranks)."""
        if self._compiled is not None and in_sharded_loop():
            if self._compiled_dynamic is None:  # a distributed fit's batches differ in size on every rank and step
                self._compiled_dynamic = torch.compile(self._eager, dynamic=True)
            # No eager fallback here: a step that failed on one rank after some of its collectives would repeat
            # them there alone; the error ends the fit on this rank, and the others fail on the broken group.
            return self._run(self._compiled_dynamic, x, *args)
        if self._compiled is not None and x.shape[0] == self._batch_size and not self._execution.compile_failed:
            try:
                return self._run(self._compiled, x, *args)
            except Exception as error:  # any failure of dynamo/inductor: continue eagerly
                self._execution.fall_back(error)
                self._compiled = None
        return self._run(self._eager, x, *args)

    def _run(self, function: Callable, x: torch.Tensor, *args):
        self._optimizer.zero_grad(set_to_none=True)
        if function is self._compiled and self._execution.compile_mode == "reduce-overhead":
            # The previous step's outputs are consumed: CUDA graphs may overwrite them.
            torch.compiler.cudagraph_mark_step_begin()
        outputs = function(x, *args)
        loss = outputs[0] if isinstance(outputs, tuple) else outputs
        loss.backward()
        sum_gradients(self._optimizer)
        return outputs


def native_bfloat16_on_cpu() -> bool:
    """
    Whether this CPU multiplies bfloat16 matrices in hardware. False only where it is known not to: an x86 CPU
    with neither AVX512-BF16 nor AMX, whose bfloat16 products torch emulates (on a 2-core AMD EPYC with AVX2, a
    256 × 2,000 by 2,000 × 500 product took 257 ms in bfloat16 against 8.3 ms in float32). Other architectures,
    and torch builds without the (private) probes, count as capable: no warning rather than a wrong one.
    """
    import platform
    if platform.machine().lower() not in ("x86_64", "amd64", "i386", "i686", "x86"):
        return True
    probes = [getattr(torch.cpu, name, None) for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")]
    if any(probe is None for probe in probes):
        return True
    return any(probe() for probe in probes)


def make_optimizer(optimizer_class: type, parameters, **optimizer_params) -> torch.optim.Optimizer:
    """
    ``optimizer_class(parameters, **optimizer_params)``, fused where the class offers it.

    Parameters
    ----------
    optimizer_class : type
        a torch optimiser class
    parameters : iterable
        the parameters or parameter groups
    **optimizer_params
        the optimiser's parameters; an explicit ``fused`` (or ``foreach``) is respected

    Returns
    -------
    optimizer : torch.optim.Optimizer
        the optimiser; it falls back to the unfused implementation when the parameters' device or dtype has
        no fused kernel
    """
    parameters = list(parameters)  # may be a generator, and may be needed twice
    if "fused" not in optimizer_params and "foreach" not in optimizer_params and _offers_fused(optimizer_class) \
            and _fused_kernels_for(parameters):
        try:
            return optimizer_class(parameters, fused=True, **optimizer_params)
        except (RuntimeError, ValueError):  # an optimiser that refuses fused for these parameters at construction
            pass
    return optimizer_class(parameters, **optimizer_params)


def _fused_kernels_for(parameters: list) -> bool:
    """
    Whether torch has fused optimiser kernels for every parameter's device and dtype. torch itself checks this
    only at the first ``step()``, where a fit could no longer fall back.
    """
    try:
        from torch.utils._foreach_utils import _get_fused_kernels_supported_devices  # private, torch >= 2.4
    except ImportError:
        return True  # leave it to the optimiser's constructor
    devices = _get_fused_kernels_supported_devices()
    tensors = []
    for group in parameters:  # tensors, or parameter groups whose "params" are a tensor or a list of them
        params = group["params"] if isinstance(group, dict) else group
        tensors += [params] if isinstance(params, torch.Tensor) else list(params)
    return all(t.device.type in devices and torch.is_floating_point(t) for t in tensors)


def _offers_fused(optimizer_class: type) -> bool:
    try:
        return "fused" in inspect.signature(optimizer_class).parameters
    except (TypeError, ValueError):
        return False


@contextlib.contextmanager
def one_intra_op_thread():
    """
    Run a block with one intra-op thread and give torch's setting back afterwards.

    For loops of tiny steps (the initial phase on an n x d embedding with d ~ 10): they gain nothing from
    intra-op parallelism, and when the machine's cores are busy every step waits for its descheduled helper
    threads. The user's own setting (``torch.set_num_threads``) holds again after the block. The setting is the
    process's; a fit runs this block inside
    :class:`clustpy_acedec._random_state.preserved_global_random_state`, whose lock keeps fits in several Python
    threads from overlapping here.
    """
    before = torch.get_num_threads()
    if before != 1:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)
