"""ACeDeC(DCN, DEC or IDEC) on all of USPS as a user would call it (protocol.py: 100 + 150 epochs, batch 256,
embedding 10, bfloat16):
    OMP_NUM_THREADS=1 python zscore.py {zscore,zscore_noaug,unit} SEED [DCN|DEC|IDEC] [PRETRAIN_EPOCHS]
(zscore: channel_zscore first; zscore_noaug: the same without augmentation; unit: the images in [0, 1];
PRETRAIN_EPOCHS: of the end-to-end pretraining, default 100). Records go to zscore.jsonl."""
import sys

from protocol import acedec, fit_and_record, usps

norm, seed = sys.argv[1], int(sys.argv[2])
base = sys.argv[3] if len(sys.argv) > 3 else "DCN"
pretrain_epochs = int(sys.argv[4]) if len(sys.argv) > 4 else 100
X, y = usps(zscored=norm.startswith("zscore"))
# Records without "fill" filled with 0 in the images' own scale; "darkest": with the data set's darkest value;
# "mean": with its mean (the package now).
fit_and_record(acedec(seed, base, augmented=not norm.endswith("noaug"), pretrain_epochs=pretrain_epochs), X, y,
               "zscore.jsonl", norm=norm, seed=seed, base=base, pretrain_epochs=pretrain_epochs, fill="mean")
