"""The centre update of ACe/DeC's mini-batch k-means (issue 19, item 1): zscore.py's protocol (protocol.py, z-scored
images, ACeDeC(DCN) + Aug) with the centres updated as Sculley's mini-batch k-means (which ACe/DeC §2.1 cites) and
DCN's code do, a running mean of every point ever assigned (A_t = A_{t-1} + Â_t, η = Â_t / A_t, A_0 =
INITIAL_COUNT; DCN's code: 100), instead of ENRC's discounted Eq. 6-7 (the package's):
    OMP_NUM_THREADS=1 python centers.py SEED [INITIAL_COUNT] [noaug]
Research script: it replaces MiniBatchCenters.update for this process only (in the initial phase as well, whose
centres the clustering phase continues). Records go to centers.jsonl."""
import sys

import torch

from clustpy_acedec import _centers
from protocol import acedec, fit_and_record, usps

seed = int(sys.argv[1])
initial_count = float(next((w for w in sys.argv[2:] if w.replace(".", "").isdigit()), 100))
augmented = "noaug" not in sys.argv[2:]


@torch.no_grad()
def running_mean_update(self, rotated, labels):
    flat = (labels + self.offsets).reshape(-1)
    sums, batch_counts = _centers.cluster_sums(rotated.repeat_interleave(labels.shape[1], 0), flat,
                                               self.centers.shape[0])
    batch_means = sums / batch_counts.clamp_min(1.0).unsqueeze(1)
    self.counts.add_(batch_counts)
    eta = batch_counts / self.counts.clamp_min(1.0)
    self.centers.add_(eta.unsqueeze(1) * (batch_means - self.centers))
    self.lost_counter += (batch_counts == 0).long()


_discounted_init = _centers.MiniBatchCenters.__init__


def init_with_count(self, centers, spaces, initial_count_, *args, **kwargs):
    _discounted_init(self, centers, spaces, [initial_count] * len(centers), *args, **kwargs)


_centers.MiniBatchCenters.update = running_mean_update
_centers.MiniBatchCenters.__init__ = init_with_count

X, y = usps()
fit_and_record(acedec(seed, augmented=augmented), X, y, "centers.jsonl",
               seed=seed, update="running_mean", initial_count=initial_count, augmented=augmented)
