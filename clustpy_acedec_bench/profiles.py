"""
The benchmark's profiles: which data sets, methods, seeds and schedules a run covers.

``cpu`` runs every data set of the paper profile at laptop scale (subsets, short schedules, one seed), so that
a report shows all of them on a machine without a GPU; its numbers are not the papers' protocol.
``quick`` is a CPU smoke run of the whole pipeline (CI runs it, a few minutes on two cores): one seed,
subsets, short schedules, so its numbers are far below the papers' and only guard against regressions.
``paper`` is the papers' protocol: 10 pretrained autoencoders (20 for SYNTH-25), DEC's stacked denoising
pretraining with its whole iteration budget for the image sets, 150 clustering epochs, all methods of the
tables; it needs a GPU to finish in hours.
"""

from clustpy_acedec_bench.methods import ENRC_VARIANTS, METHODS
from clustpy_acedec_bench.runner import DatasetPlan

_TABLE1 = ["ACe/DeC+DCN", "DCN (λ=0.1)", "DCN (λ=1.0)", "DCN (λ=10.0)", "k-means", "SubKmeans", "AE + SubKmeans",
           "AE + k-means"]
_AUG = ["ACe/DeC+DCN + Aug", "ACe/DeC+DEC + Aug", "ACe/DeC+IDEC + Aug"]
#: what the augmented pretraining and the augmented clustering phase are each worth (ours, not the paper's)
_AUG_ABLATION = ["AE (Aug) + k-means", "ACe/DeC+DCN + Aug (plain AE)"]
_TABLE2 = ["ACe/DeC+DEC", "ACe/DeC+IDEC", "DEC", "IDEC"]
_NONREDUNDANT = ["ENRC", "Nr-Kmeans", "AE + Nr-Kmeans", "Orth1", "Orth2"]


_LR_STUDY = [m for m in METHODS if "@γ=" in m]
_SWEEP = ["ACe/DeC+DCN", "DCN (λ=0.1)", "DCN (λ=1.0)", "DCN (λ=10.0)", "k-means", "AE + k-means"]


#: SYNTH: ACe/DeC §4's single-layer linear autoencoder with d = D, trained end to end on the reconstruction.
#: That is what gives Table 1's low AE + k-means (0.11 ± 0.10), the setting in which DCN fails and ACe/DeC must
#: not; DEC's stacked denoising pretraining would instead make the linear map nearly orthogonal, and then every
#: method succeeds (the measurements: docs/benchmarks.md).
_SYNTH = dict(linear_autoencoder=True, pretraining="end_to_end", pretrain_epochs=50, clustering_epochs=50)


#: The image sets of ACe/DeC: DEC's stacked denoising pretraining with its whole budget in iterations (50,000
#: per layer pair, 100,000 of fine-tuning; on USPS 1,351 + 2,703 epochs): the paper's procedure (what it
#: changes against a quarter of the budget: docs/benchmarks.md).
_DEC_PRETRAINING = dict(pretraining="stacked_denoising_full")


def _without_raw_subkmeans(methods: list) -> list:
    """SubKmeans on thousands of raw pixels (an eigendecomposition of D x D per iteration) is what ACe/DeC
    Table 1 stopped for run time on OBJECTS and GTSRB ('-'); it is left out there as well."""
    return [m for m in methods if m != "SubKmeans"]


def paper() -> list:
    """The ``--paper`` profile: both papers' tables at full size."""
    images = _TABLE1 + _AUG + _AUG_ABLATION + _TABLE2 + _LR_STUDY
    return [
        *[DatasetPlan(f"SYNTH-{k}", _SWEEP, seeds=list(range(20)), embedding_size=k + 2, **_SYNTH)
          for k in (0, 5, 10, 15, 20)],  # Fig. 1a; SYNTH-25 below
        DatasetPlan("SYNTH-25", _TABLE1 + _TABLE2 + _LR_STUDY, seeds=list(range(20)), embedding_size=27, **_SYNTH),
        *[DatasetPlan(name, images, **_DEC_PRETRAINING) for name in ("MNIST", "MNIST-Test", "FMNIST", "USPS")],
        DatasetPlan("OBJECTS", _without_raw_subkmeans(images), **_DEC_PRETRAINING),
        DatasetPlan("GTSRB", _without_raw_subkmeans(images) + _NONREDUNDANT, **_DEC_PRETRAINING),
        *[DatasetPlan(name, _NONREDUNDANT + ENRC_VARIANTS, batch_size=128, embedding_size=20)
          for name in ("stickfigures", "nrLetters", "CMU faces")],
        # ENRC §3.2: a convolutional AE with embedding 16 for the image sets (end to end: the layer-wise
        # denoising pretraining is for fully connected networks).
        *[DatasetPlan(name, _NONREDUNDANT, batch_size=128, embedding_size=16, network="convolutional",
                      pretraining="end_to_end") for name in ("C-MNIST", "NR-Objects")],
    ]


def quick() -> list:
    """The ``--quick`` profile: a smoke run of the whole protocol in minutes (one seed, subsets, short schedules)."""
    return [
        DatasetPlan("SYNTH-0", ["AE + k-means", "ACe/DeC+DCN"], seeds=[0], embedding_size=2, max_samples=2000,
                    init_iterations=1000, **dict(_SYNTH, pretrain_epochs=10, clustering_epochs=5)),
        DatasetPlan("SYNTH-25", ["k-means", "SubKmeans", "AE + k-means", "DCN (λ=1.0)", "ACe/DeC+DCN"], seeds=[0],
                    embedding_size=27, max_samples=4000, init_iterations=1000, **dict(_SYNTH, clustering_epochs=20)),
        DatasetPlan("USPS", ["k-means", "AE + k-means", "AE + SubKmeans", "DCN (λ=1.0)", "DEC", "IDEC",
                             "ACe/DeC+DCN", "ACe/DeC+DEC", "ACe/DeC+IDEC", "ACe/DeC+DCN + Aug",
                             "ACe/DeC+DCN @γ=0.1", "ACe/DeC+DCN @γ=0.9"],
                    seeds=[0], pretrain_epochs=30, clustering_epochs=15, max_samples=2000, pretraining="end_to_end",
                    init_iterations=1000),
        DatasetPlan("MNIST-Test", ["k-means", "AE + k-means", "ACe/DeC+DCN"], seeds=[0], pretrain_epochs=30,
                    clustering_epochs=15, max_samples=2000, pretraining="stacked_denoising", init_iterations=1000),
        DatasetPlan("stickfigures", ["ENRC", "AE + Nr-Kmeans", "Orth1", "Orth2"], seeds=[0], pretrain_epochs=60,
                    clustering_epochs=40, batch_size=128, embedding_size=20, pretraining="end_to_end"),
        DatasetPlan("GTSRB", ["ENRC", "AE + Nr-Kmeans"], seeds=[0], pretrain_epochs=30, clustering_epochs=20,
                    batch_size=128, embedding_size=20, pretraining="end_to_end", init_iterations=300),
    ]


def cpu() -> list:
    """
    Every data set and method of the paper profile at CPU scale, so that no table cell the papers fill stays
    empty: subsets of at most 2,000 points, 20 + 10 epochs, plain pretraining, the initial phases shortened, one
    seed; three seeds where the report draws intervals (the SYNTH sweep of Fig. 1a, and USPS and GTSRB, which
    carry the learning-rate study of Fig. 4). SYNTH keeps its own protocol (``_SYNTH``, 4,000 points, 20
    clustering epochs: the quick profile's, where ACe/DeC separates from DCN). Raw-data Nr-Kmeans runs where the data have at most
    a few hundred features (on CMU faces' 960 one run takes about a minute, on C-MNIST and NR-Objects far more).
    """
    short = dict(seeds=[0], pretrain_epochs=20, clustering_epochs=10, max_samples=2000, pretraining="end_to_end",
                 init_iterations=500)
    synth = dict(_SYNTH, clustering_epochs=20, seeds=[0, 1, 2], max_samples=4000, init_iterations=1000)
    single = ["ACe/DeC+DCN", "ACe/DeC+DEC", "ACe/DeC+IDEC", "DCN (λ=0.1)", "DCN (λ=1.0)", "DCN (λ=10.0)", "DEC", "IDEC",
              "k-means", "SubKmeans", "AE + k-means", "AE + SubKmeans"] + _AUG
    multi = ["ENRC", "AE + Nr-Kmeans", "Orth1", "Orth2"]
    return [
        *[DatasetPlan(f"SYNTH-{k}", ["ACe/DeC+DCN", "DCN (λ=1.0)", "k-means", "AE + k-means"], embedding_size=k + 2,
                      **synth) for k in (0, 5, 10, 15, 20)],
        DatasetPlan("SYNTH-25", _TABLE1 + _TABLE2, embedding_size=27, **synth),
        *[DatasetPlan(name, single, **short) for name in ("MNIST", "MNIST-Test", "FMNIST")],
        DatasetPlan("USPS", single + _LR_STUDY, **dict(short, seeds=[0, 1, 2])),
        DatasetPlan("OBJECTS", _without_raw_subkmeans(single), **short),
        # both papers' tables on one autoencoder per seed
        DatasetPlan("GTSRB", _without_raw_subkmeans(single) + multi + _LR_STUDY, **dict(short, seeds=[0, 1, 2])),
        *[DatasetPlan(name, multi + ["Nr-Kmeans"], batch_size=128, embedding_size=20, **short)
          for name in ("stickfigures", "nrLetters")],
        *[DatasetPlan(name, multi, batch_size=128, embedding_size=20, **short)
          for name in ("CMU faces", "C-MNIST", "NR-Objects")],
    ]


PROFILES = {"quick": quick, "cpu": cpu, "paper": paper}
