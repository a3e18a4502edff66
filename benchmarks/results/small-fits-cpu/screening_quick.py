"""Why ACeDeC's screening ranks by the β-profiled loss (until the afternoon of 2026-12-01 it ranked by the loss and
was off by default for that reason) and why ENRC's is only on with ``init="best"``: two checks of
the quick profile (``tests/test_benchmark.py``) with the screening of the initial candidates after 250 iterations
and without it, and every candidate's loss at the screening and at the end. SYNTH-0: ACe/DeC+DCN, seed 0, the test
asks NMI > 0.9. stickfigures: "ENRC", the paper's configuration (ten random starts, Eq. 4), the test asks > 0.95 on
both labelings.

    OMP_NUM_THREADS=1 python screening_quick.py [SYNTH-0|stickfigures|stickfigures-profiled]

stickfigures-profiled: ENRC screened by ACeDeC's β-profiled score (``SubspaceClusteringModel.profiled_loss``, which
ENRC does not use) instead of its loss, only the screened setting.

One line of JSON per setting to screening_quick.jsonl beside this file. The setting is passed by changing the
estimator's default, because the benchmark builds the estimator itself."""
import functools
import json
import sys
from pathlib import Path

import torch

import clustpy_acedec.acedec as acedec
import clustpy_acedec.enrc as enrc
from clustpy_acedec_bench.cli import main

torch.set_num_threads(1)
RECORDS = Path(__file__).with_name("screening_quick.jsonl")
DATA = sys.argv[1] if len(sys.argv) > 1 else "SYNTH-0"
ENRC_PROFILED = DATA == "stickfigures-profiled"
DATA = "stickfigures" if ENRC_PROFILED else DATA
if ENRC_PROFILED:
    enrc.best_of_rounds = functools.partial(enrc.best_of_rounds,
                                            screening_score=acedec.SubspaceClusteringModel.profiled_loss)
ESTIMATOR, METHOD = (acedec.ACeDeC, "ACe/DeC+DCN") if DATA == "SYNTH-0" else (enrc.ENRC, "ENRC")
fit = ESTIMATOR.fit


def recording_fit(self, X, y=None):
    fit(self, X, y)
    initial = self.history_["initial"]
    record = dict(init_screen_iterations=self.init_screen_iterations, iterations=[r.iterations for r in initial],
                  screening_loss=[r.screening_loss and round(r.screening_loss, 4) for r in initial],
                  candidate_loss=[round(r.candidate_loss, 4) for r in initial], kept=[r.kept for r in initial],
                  cluster_dims=len(getattr(self, "cluster_space_dims_", [])) or None)
    if (PROFILED and isinstance(self, acedec.ACeDeC) or ENRC_PROFILED) and self.init_screen_iterations:
        record["screening"] = "profiled"
    recording_fit.records.append(record)
    return self


#: Since the afternoon of 2026-12-01 ACeDeC's screening ranks by the β-profiled loss (before: the loss itself).
PROFILED = hasattr(acedec.SubspaceClusteringModel, "profiled_loss")
recording_fit.records = []
ESTIMATOR.fit = recording_fit
code = ESTIMATOR.__init__.__code__
names = list(code.co_varnames[1:code.co_argcount])
for screen in (250,) if ENRC_PROFILED else (0, 250):
    defaults = list(ESTIMATOR.__init__.__defaults__)
    defaults[names.index("init_screen_iterations") - (len(names) - len(defaults))] = screen
    ESTIMATOR.__init__.__defaults__ = tuple(defaults)
    output = Path(f"/tmp/screening_{DATA}_{screen}{'_profiled' if ENRC_PROFILED else ''}")
    main(["--quick", "--quiet", "--device", "cpu", "--datasets", DATA, "--methods", METHOD, "--output", str(output)])
    nmi = [json.loads(line)["nmi"] for line in (output / "results.jsonl").read_text().splitlines()][-1]
    record = dict(data=DATA, method=METHOD, profile="quick", seed=0, nmi=[round(v, 4) for v in nmi],
                  **recording_fit.records[-1])
    with RECORDS.open("a") as file:
        file.write(json.dumps(record) + "\n")
    print(json.dumps(record), file=sys.stderr)
