"""
The names the command lines offer, without importing what they name: ``--help`` and argument errors of
``clustpy-acedec-bench`` and ``clustpy-acedec-demo`` answer in a fraction of a second because neither torch nor
clustpy is imported before the arguments are parsed.

Each constant copies a registry that lives in a heavy module; ``tests/test_cli.py`` checks that they agree, so
a method, task or profile added there and forgotten here fails the tests instead of the user's command line.
"""

#: :data:`clustpy_acedec_bench.profiles.PROFILES`, in its order; the first is the command's default
PROFILE_NAMES = ("quick", "cpu", "paper")

#: :data:`clustpy_acedec_bench.methods.METHODS`, in its order (the papers' table names)
METHOD_NAMES = (
    "k-means", "SubKmeans", "AE + k-means", "AE (Aug) + k-means", "AE + SubKmeans",
    "DCN (λ=0.1)", "DCN (λ=1.0)", "DCN (λ=10.0)", "DEC", "IDEC",
    "ACe/DeC+DCN", "ACe/DeC+DEC", "ACe/DeC+IDEC",
    "ACe/DeC+DCN + Aug", "ACe/DeC+DEC + Aug", "ACe/DeC+IDEC + Aug", "ACe/DeC+DCN + Aug (plain AE)",
    "ACe/DeC+DCN @γ=0.1", "ACe/DeC+DCN @γ=0.5", "ACe/DeC+DCN @γ=0.9",
    "DCN (λ=0.1) @γ=0.1", "DCN (λ=0.1) @γ=0.5", "DCN (λ=0.1) @γ=0.9",
    "DCN (λ=1.0) @γ=0.1", "DCN (λ=1.0) @γ=0.5", "DCN (λ=1.0) @γ=0.9",
    "DCN (λ=10.0) @γ=0.1", "DCN (λ=10.0) @γ=0.5", "DCN (λ=10.0) @γ=0.9",
    "ENRC", "ENRC (Nr-Kmeans start)", "ENRC (points)", "ENRC (Nr-Kmeans start, points)", "ENRC (best start)",
    "ENRC (best start, points)", "ENRC (best start, points, unscreened)",
    "Nr-Kmeans", "AE + Nr-Kmeans", "Orth1", "Orth2",
)

#: the keys of :data:`clustpy_acedec_bench.speed.TASKS`, sorted
SPEED_TASKS = ("acedec-blobs-noise", "acedec-digits", "acedec-mnist", "acedec-mnist-vs-dcn", "acedec-usps",
               "acedec-usps-4000", "acedec-usps-short", "acedec-usps-vs-dcn", "enrc-cmnist", "enrc-stickfigures")

#: :data:`clustpy_acedec_bench.scaling.SCALING_METHODS`
SCALING_METHODS = ("ACeDeC", "ENRC")

#: the defaults of :class:`clustpy_acedec_bench.scaling.ScalingGrid` that the command line exposes
SCALING_DEFAULTS = dict(sizes=(10_000, 30_000, 100_000, 300_000, 1_000_000), dims=(5, 10, 20, 40, 80),
                        clusters=(2, 5, 10, 50, 200), n_samples=100_000, embedding_size=10, n_clusters=10, epochs=2)

#: :data:`clustpy_acedec.pretraining.PRETRAINING_SCHEMES`
PRETRAINING_SCHEMES = ("end_to_end", "stacked_denoising", "stacked_denoising_full")

#: :data:`clustpy_acedec_bench.methods.ACTIVATIONS`: the hidden activation of the feedforward autoencoder, clustpy's
#: LeakyReLU(0.01) (the default) or the ReLU of DEC's network, which ACe/DeC §4 pretrains "according to" DEC
ACTIVATIONS = ("leaky_relu", "relu")

#: the precisions of the pretraining and of our estimators (``execution`` / ``precision`` of the core)
PRECISIONS = ("float32", "bfloat16")

#: the clustpy deep clusterers the demo wraps in ACeDeC
DEMO_BASES = ("DCN", "DEC", "IDEC")

#: :data:`clustpy_acedec_bench.distributed.DISTRIBUTED_METHODS`
DISTRIBUTED_METHODS = ("ACeDeC", "ENRC")

#: the defaults of :class:`clustpy_acedec_bench.distributed.DistributedPlan` that the command line exposes
DISTRIBUTED_DEFAULTS = dict(datasets=("USPS",), methods=("ACeDeC",), pretrain_epochs=10, clustering_epochs=10,
                            batch_size=256, init_iterations=500)
