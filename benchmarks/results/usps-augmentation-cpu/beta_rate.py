"""β's learning rate under augmentation (issue 19, item 1): ACeDeC(DCN) + Aug on all of USPS, zscore.py's protocol
(protocol.py) with β learning FACTOR times the network's rate instead of the package's 10 (ENRC §3.2,
``_estimator.BETA_LR_FACTOR``):
    OMP_NUM_THREADS=1 python beta_rate.py SEED FACTOR
The factor is a module constant, set here before the fit (a research script, not an API). Records go to
beta_rate.jsonl."""
import sys

import clustpy_acedec._estimator as estimator
from protocol import acedec, fit_and_record, usps

seed, factor = int(sys.argv[1]), float(sys.argv[2])
estimator.BETA_LR_FACTOR = factor
X, y = usps()
fit_and_record(acedec(seed), X, y, "beta_rate.jsonl", seed=seed, beta_lr_factor=factor,
               fitted_fields=lambda model: dict(betas_cs=[round(float(b), 3) for b in model.betas_[0]]))
