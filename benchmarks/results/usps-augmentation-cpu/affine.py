"""ACeDeC(DCN) + Aug on all of USPS with clustpy's augmentation instead of the paper's (issue 19, item 1: "the
augmentation itself"): clustpy's augmented loaders draw torchvision's RandomAffine(degrees=16, translate=(0.1,
0.1), shear=8); the estimators draw rotations of ±15° and shifts of ±10 % (ACe/DeC §2.2: "random rotation and
shifts"). zscore.py's protocol (z-scored images, mean fill, protocol.py) through the estimator's ``augmentation``
parameter:
    OMP_NUM_THREADS=1 python affine.py SEED [DEGREES SHIFT SHEAR]      (default 16 0.1 8; DEC-DA's: 10 0.1 0)
Records go to affine.jsonl."""
import sys

from clustpy_acedec.preprocessing import RandomRotationShift, channel_means
from protocol import acedec, fit_and_record, usps

seed = int(sys.argv[1])
degrees, shift, shear = (float(v) for v in sys.argv[2:5]) if len(sys.argv) > 4 else (16.0, 0.1, 8.0)
X, y = usps()
augmentation = RandomRotationShift((16, 16), max_degrees=degrees, max_shift=shift, max_shear=shear,
                                   fill=channel_means(X))
fit_and_record(acedec(seed, augmentation=augmentation), X, y, "affine.jsonl",
               seed=seed, degrees=degrees, shift=shift, shear=shear)
