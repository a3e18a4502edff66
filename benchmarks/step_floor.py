"""
The floor of one training step on this machine: a plain ``torch.nn.Sequential`` autoencoder of a task's shapes,
the summed reconstruction loss and fused Adam, nothing else, in float32 and under bfloat16 autocast.

``python benchmarks/step_floor.py --threads 2``

What a clustering step of ours or clustpy's cannot beat on the same network and batch; the ratio of the two
precisions bounds what bfloat16 can win against clustpy's float32 steps (see
benchmarks/results/speed-cpu-phases/README.md).
"""

import argparse
import time

import torch

#: task -> (input dimension, embedding size, batch size), as the CPU speed tasks
SHAPES = {"stickfigures": (400, 20, 128), "USPS": (256, 10, 256)}


def autoencoder(dim: int, embedding: int) -> torch.nn.Sequential:
    sizes = [dim, 500, 500, 2000, embedding]

    def stack(widths):
        layers = [m for a, b in zip(widths[:-1], widths[1:]) for m in (torch.nn.Linear(a, b), torch.nn.LeakyReLU())]
        return layers[:-1]
    return torch.nn.Sequential(*stack(sizes), *stack(sizes[::-1]))


def milliseconds_per_step(dim: int, embedding: int, batch: int, bfloat16: bool, n_steps: int = 40) -> float:
    net = autoencoder(dim, embedding)
    optimizer = torch.optim.Adam(net.parameters(), 1e-3, fused=True)
    x = torch.randn(batch, dim)

    def step():
        with torch.autocast("cpu", torch.bfloat16, enabled=bfloat16):
            reconstruction = net(x)
        loss = (reconstruction.float() - x).pow(2).sum(1).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    for _ in range(5):
        step()
    start = time.perf_counter()
    for _ in range(n_steps):
        step()
    return (time.perf_counter() - start) / n_steps * 1000


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    for task, (dim, embedding, batch) in SHAPES.items():
        fp32, bf16 = (milliseconds_per_step(dim, embedding, batch, b) for b in (False, True))
        print(f"{task}: float32 {fp32:.1f} ms, bfloat16 {bf16:.1f} ms per step, ratio {fp32 / bf16:.1f}x")


if __name__ == "__main__":
    main()
