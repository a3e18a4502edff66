"""
Published result tables of the two papers that clustpy-acedec implements, transcribed as plain dicts.

Sources
-------
- ACe/DeC: Miklautz, Bauer, Mautz, Tschiatschek, Böhm, Plant, "Details (Don't) Matter: Isolating Cluster
  Information in Deep Embedded Spaces", IJCAI 2021 -- Tables 1, 2 and 3.
- ENRC: Miklautz, Mautz, Altinigneli, Böhm, Plant, "Deep Embedded Non-Redundant Clustering", AAAI 2020 --
  Tables 1, 2 and 3.

The numbers are copied exactly as printed (two decimals; trailing zeros are lost by the float literal, e.g.
``1.00`` is stored as ``1.0``). Bold markers and the ``*`` markers are removed from the numbers; the ``*``
markers are kept in separate ``*_SUBSET_MARKED`` sets instead. A ``(mean, std)`` tuple stands for a printed
``mean ± std``.

Conventions
-----------
- Dataset and method keys are the column and row headers as printed in the respective table.
- The only rewriting of a header: DCN with trade-off weight λ is written ``"DCN (λ=0.1)"``, ``"DCN (λ=1.0)"``,
  ``"DCN (λ=10.0)"`` (printed as ``DCN ($\\lambda = 0.1$)`` etc. in the extraction; the λ value keeps its
  printed decimals).
- ``None`` stands for an entry without a value: ``-`` (ACe/DeC Tables 1 and 3: "empty results were stopped
  due to run time constraints"), ``N/A`` (ACe/DeC Table 1, SYNTH-25 with augmentation: image augmentation does
  not apply to non-image data) and ``n.a.`` (ENRC Table 3: "Algorithms that found only a single clustering are
  marked with 'n.a.'").
- ``*`` in ACe/DeC Tables 1 and 3: run on a subset of 10,000 objects. ``*`` in ENRC Tables 1 and 3: run on a
  subset of 10,000 data points due to memory constraints (>32 GB).
- Dict insertion order follows the printed order of rows/columns.

Tables
------
ACEDEC_TABLE1 : dict
    ACe/DeC Table 1, NMI mean and std over 10 pretrained AEs (20 for SYNTH-25).
    Keyed ``augmentation (bool) -> dataset -> method -> (mean, std) | None``.
    Columns (datasets): SYNTH-25, FMNIST, MNIST-Full, MNIST-Test, OBJECTS, USPS, GTSRB.
    Rows (methods), ``False`` (printed upper block, header "Methods"): ACe/DeC+DCN, DCN (λ=0.1), DCN (λ=1.0),
    DCN (λ=10.0), k-means, SubKmeans, AE + SubKmeans, AE + k-means.
    Rows (methods), ``True`` (printed lower block, header "Methods + Aug"): ACe/DeC+DCN, DCN (λ=0.1),
    DCN (λ=1.0), DCN (λ=10.0).
    Note: the caption says "with and without image augmentation in the upper and lower tables, respectively",
    but its own explanation ("The upper table shows ... The lower table shows the performance of ACe/DeC and
    DCN leveraging image augmentation") and the header "Methods + Aug" place augmentation in the lower block;
    the latter is followed here.
ACEDEC_TABLE1_SUBSET_MARKED : set of (bool, str, str)
    ``(augmentation, dataset, method)`` entries of Table 1 marked with ``*``.
ACEDEC_TABLE2 : dict
    ACe/DeC Table 2, average NMI (means only, no std printed), ``dataset -> method -> float``.
    Columns: MNIST-Full, MNIST-Test, FMNIST, # HPs. Rows: ACe/DeC+DCN, DEPICT, DEC, IDEC, JULE, C-GAN, DualAE.
    DEC and IDEC are the authors' re-implementations; the others are taken from the literature.
ACEDEC_TABLE2_NUM_HPS : dict
    The "# HPs" column of Table 2 (number of hyperparameters tuned with labels), ``method -> int``.
ACEDEC_TABLE3 : dict
    ACe/DeC Table 3, average number of cluster-space dimensions found over ten pretrained AEs with d = 10,
    ``dataset -> method -> int | None``. Columns: MNIST, FMNIST, USPS, GTSRB. Rows: SubKM, AE + SubKM,
    ACe/DeC+DCN (SubKM = SubKmeans). "MNIST" is the printed header; the table does not say whether
    MNIST-Full or MNIST-Test is meant.
ACEDEC_TABLE3_SUBSET_MARKED : set of (str, str)
    ``(dataset, method)`` entries of Table 3 marked with ``*``.
ENRC_TABLE1 : dict
    ENRC Table 1, NMI mean and std over ten pretrained autoencoders,
    ``dataset -> method -> list of (mean, std) | None``, one entry per ground-truth clustering in the order of
    :data:`ENRC_TABLE1_CLUSTERINGS` (the printed row order). Table 1 contains no 'n.a.' entries.
    Columns: Data Sets, Clustering, ENRC, Orth1, Orth2, mSC, Nr-Kmeans, ISAAC.
    Datasets (rows): NR-Objects (color, material, shape), GTSRB (type, color), Stickfigures (upper, lower),
    C-MNIST (left, right).
ENRC_TABLE1_CLUSTERINGS : dict
    ``dataset -> tuple`` of the ground-truth clustering names of the "Clustering" column of ENRC Table 1.
ENRC_SUBSET_MARKED : set of (str, str)
    ``(dataset, method)`` entries of ENRC Table 1 marked with ``*`` (in the paper every clustering of such a
    pair is marked).
ENRC_TABLE3 : dict
    ENRC Table 3, VI mean and std over ten pretrained autoencoders, ``dataset -> method -> (mean, std) | None``.
    Columns (datasets): NR-Objects, GTSRB, Stickfigures, C-MNIST.
    Rows (methods): ENRC, Orth1, Orth2, mSC, Nr-Kmeans, ISAAC.
ENRC_TABLE3_SUBSET_MARKED : set of (str, str)
    ``(dataset, method)`` entries of ENRC Table 3 marked with ``*`` (including the ``n.a.*`` of ISAAC).
ENRC_DATASETS : dict
    ENRC Table 2 (data-set summary), ``dataset -> dict(n_samples, n_features, clusterings, clustering_names)``.
    Columns: Name, # Points, # Dimensions, # Clusters. ``clusterings`` is the "# Clusters" column (number of
    clusters per ground-truth clustering, in the printed order). Table 2 does not name the clusterings;
    ``clustering_names`` is inferred from Table 1 and Sec. 3.1 and aligned with ``clusterings``. For NR-Objects
    Table 2 prints "6; 3; 2", and Sec. 3.1 says "three shapes, two materials and six colors", so the order is
    (color, shape, material), which differs from Table 1's row order (color, material, shape).

Figures
-------
Figures are not included: the text extractions contain no numeric values for Fig. 1a (NMI of DCN vs.
ACe/DeC+DCN when adding non-cluster dimensions) or Fig. 4 (learning-rate / λ stability) of ACe/DeC, and neither
paper prints runtime numbers (ENRC only says ISAAC and mSC took "more than one day", so they were run once per
autoencoder).
"""

# ---------------------------------------------------------------------------------------------------------------
# ACe/DeC (IJCAI 2021)
# ---------------------------------------------------------------------------------------------------------------

#: ACe/DeC Table 1: NMI (mean, std), augmentation (bool) -> dataset -> method -> (mean, std) | None.
#: The extraction is tab-separated with 8 fields per row (method + 7 datasets), so the layout is unambiguous.
ACEDEC_TABLE1 = {
    False: {
        "SYNTH-25": {
            "ACe/DeC+DCN": (1.00, 0.00),
            "DCN (λ=0.1)": (0.17, 0.24),
            "DCN (λ=1.0)": (0.22, 0.21),
            "DCN (λ=10.0)": (0.29, 0.22),
            "k-means": (0.90, 0.16),
            "SubKmeans": (0.84, 0.13),
            "AE + SubKmeans": (0.11, 0.10),
            "AE + k-means": (0.11, 0.10),
        },
        "FMNIST": {
            "ACe/DeC+DCN": (0.62, 0.00),
            "DCN (λ=0.1)": (0.62, 0.02),
            "DCN (λ=1.0)": (0.55, 0.03),
            "DCN (λ=10.0)": (0.55, 0.04),
            "k-means": (0.51, 0.01),
            "SubKmeans": (0.52, 0.00),  # printed with *
            "AE + SubKmeans": (0.59, 0.02),
            "AE + k-means": (0.59, 0.01),
        },
        "MNIST-Full": {
            "ACe/DeC+DCN": (0.89, 0.01),
            "DCN (λ=0.1)": (0.87, 0.01),
            "DCN (λ=1.0)": (0.86, 0.03),
            "DCN (λ=10.0)": (0.70, 0.08),
            "k-means": (0.50, 0.00),
            "SubKmeans": (0.48, 0.01),  # printed with *
            "AE + SubKmeans": (0.80, 0.01),
            "AE + k-means": (0.80, 0.01),
        },
        "MNIST-Test": {
            "ACe/DeC+DCN": (0.87, 0.02),
            "DCN (λ=0.1)": (0.86, 0.02),
            "DCN (λ=1.0)": (0.83, 0.03),
            "DCN (λ=10.0)": (0.66, 0.05),
            "k-means": (0.50, 0.00),
            "SubKmeans": (0.48, 0.02),  # printed with *
            "AE + SubKmeans": (0.79, 0.01),
            "AE + k-means": (0.79, 0.01),
        },
        "OBJECTS": {
            "ACe/DeC+DCN": (1.00, 0.00),
            "DCN (λ=0.1)": (1.00, 0.00),
            "DCN (λ=1.0)": (0.99, 0.01),
            "DCN (λ=10.0)": (1.00, 0.00),
            "k-means": (1.00, 0.00),
            "SubKmeans": None,  # printed "-": stopped due to run time constraints
            "AE + SubKmeans": (0.98, 0.02),
            "AE + k-means": (0.98, 0.02),
        },
        "USPS": {
            "ACe/DeC+DCN": (0.71, 0.02),
            "DCN (λ=0.1)": (0.71, 0.03),
            "DCN (λ=1.0)": (0.65, 0.03),
            "DCN (λ=10.0)": (0.56, 0.04),
            "k-means": (0.61, 0.00),
            "SubKmeans": (0.61, 0.00),
            "AE + SubKmeans": (0.65, 0.02),
            "AE + k-means": (0.65, 0.02),
        },
        "GTSRB": {
            "ACe/DeC+DCN": (0.52, 0.04),
            "DCN (λ=0.1)": (0.19, 0.05),
            "DCN (λ=1.0)": (0.16, 0.07),
            "DCN (λ=10.0)": (0.24, 0.19),
            "k-means": (0.22, 0.01),
            "SubKmeans": None,  # printed "-": stopped due to run time constraints
            "AE + SubKmeans": (0.47, 0.02),
            "AE + k-means": (0.46, 0.03),
        },
    },
    True: {
        # SYNTH-25 is printed "N/A" for every method (augmentation does not apply to non-image data).
        "SYNTH-25": {
            "ACe/DeC+DCN": None,
            "DCN (λ=0.1)": None,
            "DCN (λ=1.0)": None,
            "DCN (λ=10.0)": None,
        },
        "FMNIST": {
            "ACe/DeC+DCN": (0.64, 0.01),
            "DCN (λ=0.1)": (0.60, 0.02),
            "DCN (λ=1.0)": (0.57, 0.03),
            "DCN (λ=10.0)": (0.57, 0.03),
        },
        "MNIST-Full": {
            "ACe/DeC+DCN": (0.94, 0.00),
            "DCN (λ=0.1)": (0.94, 0.00),
            "DCN (λ=1.0)": (0.94, 0.00),
            "DCN (λ=10.0)": (0.92, 0.02),
        },
        "MNIST-Test": {
            "ACe/DeC+DCN": (0.94, 0.00),
            "DCN (λ=0.1)": (0.95, 0.01),
            "DCN (λ=1.0)": (0.95, 0.01),
            "DCN (λ=10.0)": (0.94, 0.02),
        },
        "OBJECTS": {
            "ACe/DeC+DCN": (1.00, 0.00),
            "DCN (λ=0.1)": (1.00, 0.00),
            "DCN (λ=1.0)": (1.00, 0.00),
            "DCN (λ=10.0)": (1.00, 0.00),
        },
        "USPS": {
            "ACe/DeC+DCN": (0.86, 0.02),
            "DCN (λ=0.1)": (0.83, 0.02),
            "DCN (λ=1.0)": (0.84, 0.03),
            "DCN (λ=10.0)": (0.78, 0.05),
        },
        "GTSRB": {
            "ACe/DeC+DCN": (0.66, 0.02),
            "DCN (λ=0.1)": (0.64, 0.02),
            "DCN (λ=1.0)": (0.65, 0.06),
            "DCN (λ=10.0)": (0.65, 0.06),
        },
    },
}

#: ACe/DeC Table 1 entries marked with * (run on a subset of 10,000 objects): (augmentation, dataset, method).
ACEDEC_TABLE1_SUBSET_MARKED = {
    (False, "FMNIST", "SubKmeans"),
    (False, "MNIST-Full", "SubKmeans"),
    (False, "MNIST-Test", "SubKmeans"),
}

#: ACe/DeC Table 2: average NMI (mean only; no std is printed), dataset -> method -> value. Table 2 compares
#: methods "that use augmentation": its ACe/DeC+DCN row is Table 1's "+ Aug" row (0.94 / 0.94 / 0.64).
ACEDEC_TABLE2 = {
    "MNIST-Full": {
        "ACe/DeC+DCN + Aug": 0.94,
        "DEPICT": 0.92,
        "DEC": 0.74,
        "IDEC": 0.80,
        "JULE": 0.91,
        "C-GAN": 0.89,
        "DualAE": 0.94,
    },
    "MNIST-Test": {
        "ACe/DeC+DCN + Aug": 0.94,
        "DEPICT": 0.92,
        "DEC": 0.75,
        "IDEC": 0.77,
        "JULE": 0.92,
        "C-GAN": 0.89,
        "DualAE": 0.95,
    },
    "FMNIST": {
        "ACe/DeC+DCN + Aug": 0.64,
        "DEPICT": 0.39,
        "DEC": 0.57,
        "IDEC": 0.61,
        "JULE": 0.61,
        "C-GAN": 0.64,
        "DualAE": 0.65,
    },
}

#: ACe/DeC Table 2, column "# HPs": hyperparameters tuned with access to labels, method -> count.
ACEDEC_TABLE2_NUM_HPS = {
    "ACe/DeC+DCN": 0,
    "DEPICT": 0,
    "DEC": 0,
    "IDEC": 1,
    "JULE": 3,
    "C-GAN": 3,
    "DualAE": 3,
}

#: ACe/DeC Table 3: average number of cluster-space dimensions (d = 10), dataset -> method -> value | None.
ACEDEC_TABLE3 = {
    "MNIST": {
        "SubKM": 10,  # printed "10*"
        "AE + SubKM": 9,
        "ACe/DeC+DCN": 6,
    },
    "FMNIST": {
        "SubKM": 10,  # printed "10*"
        "AE + SubKM": 9,
        "ACe/DeC+DCN": 5,
    },
    "USPS": {
        "SubKM": 10,
        "AE + SubKM": 9,
        "ACe/DeC+DCN": 5,
    },
    "GTSRB": {
        "SubKM": None,  # printed "-": stopped due to run time constraints
        "AE + SubKM": 9,
        "ACe/DeC+DCN": 4,
    },
}

#: ACe/DeC Table 3 entries marked with * (run on a subset of 10,000 objects): (dataset, method).
ACEDEC_TABLE3_SUBSET_MARKED = {
    ("MNIST", "SubKM"),
    ("FMNIST", "SubKM"),
}

# ---------------------------------------------------------------------------------------------------------------
# ENRC (AAAI 2020)
# ---------------------------------------------------------------------------------------------------------------

#: ENRC Table 1: ground-truth clusterings per dataset, in the printed row order of the "Clustering" column.
ENRC_TABLE1_CLUSTERINGS = {
    "NR-Objects": ("color", "material", "shape"),
    "GTSRB": ("type", "color"),
    "Stickfigures": ("upper", "lower"),
    "C-MNIST": ("left", "right"),
}

#: ENRC Table 1: NMI, dataset -> method -> list of (mean, std) per clustering (order of ENRC_TABLE1_CLUSTERINGS);
#: None would stand for 'n.a.' (Table 1 has none). The extraction is a markdown pipe table whose continuation
#: rows leave "Data Sets" empty; each such row belongs to the dataset named above it.
ENRC_TABLE1 = {
    "NR-Objects": {
        "ENRC": [(1.00, 0.00), (1.00, 0.00), (1.00, 0.00)],
        "Orth1": [(0.70, 0.09), (0.46, 0.16), (0.39, 0.20)],
        "Orth2": [(0.73, 0.06), (0.11, 0.12), (0.20, 0.08)],
        "mSC": [(0.35, 0.05), (0.03, 0.07), (0.03, 0.03)],
        "Nr-Kmeans": [(0.92, 0.09), (0.95, 0.14), (0.92, 0.16)],
        "ISAAC": [(0.15, 0.06), (0.53, 0.08), (0.60, 0.07)],
    },
    "GTSRB": {
        "ENRC": [(0.74, 0.01), (0.67, 0.00)],
        "Orth1": [(0.57, 0.07), (0.59, 0.02)],
        "Orth2": [(0.73, 0.15), (0.63, 0.03)],
        "mSC": [(0.04, 0.04), (0.04, 0.06)],
        "Nr-Kmeans": [(0.72, 0.01), (0.65, 0.01)],
        "ISAAC": [(0.60, 0.07), (0.59, 0.04)],
    },
    "Stickfigures": {
        "ENRC": [(1.00, 0.00), (1.00, 0.00)],
        "Orth1": [(0.79, 0.21), (0.77, 0.24)],
        "Orth2": [(0.00, 0.00), (0.00, 0.00)],
        "mSC": [(0.33, 0.20), (0.30, 0.17)],
        "Nr-Kmeans": [(1.00, 0.00), (1.00, 0.00)],
        "ISAAC": [(0.37, 0.05), (0.39, 0.08)],
    },
    "C-MNIST": {
        "ENRC": [(0.83, 0.04), (0.82, 0.01)],
        "Orth1": [(0.33, 0.02), (0.40, 0.03)],
        "Orth2": [(0.35, 0.03), (0.41, 0.04)],
        "mSC": [(0.07, 0.02), (0.06, 0.02)],  # both printed with *
        "Nr-Kmeans": [(0.69, 0.03), (0.70, 0.03)],
        "ISAAC": [(0.29, 0.13), (0.19, 0.13)],  # both printed with *
    },
}

#: ENRC Table 1 entries marked with * (run on a subset of 10,000 data points): (dataset, method).
ENRC_SUBSET_MARKED = {
    ("C-MNIST", "mSC"),
    ("C-MNIST", "ISAAC"),
}

#: ENRC Table 3: VI (mean, std), dataset -> method -> (mean, std) | None ('n.a.': only a single clustering found).
ENRC_TABLE3 = {
    "NR-Objects": {
        "ENRC": (2.39, 0.00),
        "Orth1": (2.31, 0.03),
        "Orth2": (1.20, 0.07),
        "mSC": (2.32, 0.05),
        "Nr-Kmeans": (2.35, 0.05),
        "ISAAC": (1.25, 1.04),
    },
    "GTSRB": {
        "ENRC": (1.96, 0.01),
        "Orth1": (1.98, 0.03),
        "Orth2": (1.11, 0.24),
        "mSC": (1.99, 0.09),
        "Nr-Kmeans": (1.94, 0.00),
        "ISAAC": None,  # printed "n.a."
    },
    "Stickfigures": {
        "ENRC": (2.20, 0.00),
        "Orth1": (2.06, 0.17),
        "Orth2": (0.90, 0.56),
        "mSC": (2.01, 0.10),
        "Nr-Kmeans": (2.19, 0.00),
        "ISAAC": (1.14, 0.25),
    },
    "C-MNIST": {
        "ENRC": (4.56, 0.01),
        "Orth1": (4.41, 0.06),
        "Orth2": (3.13, 0.20),
        "mSC": (4.48, 0.05),  # printed with *
        "Nr-Kmeans": (4.57, 0.02),
        "ISAAC": None,  # printed "n.a.*"
    },
}

#: ENRC Table 3 entries marked with * (run on a subset of 10,000 data points): (dataset, method).
ENRC_TABLE3_SUBSET_MARKED = {
    ("C-MNIST", "mSC"),
    ("C-MNIST", "ISAAC"),
}

#: ENRC Table 2: data-set summary (printed order). ``clusterings`` is the "# Clusters" column as printed;
#: ``clustering_names`` is not printed in Table 2 and is inferred from Table 1 / Sec. 3.1 (aligned with
#: ``clusterings``; note the NR-Objects order differs from Table 1's row order).
ENRC_DATASETS = {
    "C-MNIST": dict(n_samples=60000, n_features=3136, clusterings=[10, 10],
                    clustering_names=["left", "right"]),
    "NR-Objects": dict(n_samples=10000, n_features=16384, clusterings=[6, 3, 2],
                       clustering_names=["color", "shape", "material"]),
    "GTSRB": dict(n_samples=6720, n_features=1024, clusterings=[4, 2],
                  clustering_names=["type", "color"]),
    "Stickfigures": dict(n_samples=900, n_features=400, clusterings=[3, 3],
                         clustering_names=["upper", "lower"]),
}
