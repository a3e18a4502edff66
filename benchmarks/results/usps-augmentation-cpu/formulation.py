"""How x_aug enters the reconstruction (issue 19, item 1), in zscore.py's protocol (protocol.py: z-scored USPS,
ACeDeC(DCN) + Aug, the estimator's augmented end-to-end pretraining and mean fill): clustpy's formulation, x_aug
decoded from its own embedding z_aug (as clustpy's DCN and ACeDeC do, with both spaces' terms pulling z_aug to
x's centre and to the shared mean, as the package does), instead of the package's, x_aug decoded from x's
cluster-space and x_aug's shared-space coordinates (ACe/DeC §2.2: "we reconstruct the augmented data point from
the shared space and the original from the clustered space"):
    OMP_NUM_THREADS=1 python formulation.py SEED
Research script: it replaces SubspaceClusteringModel._augmentation_loss for this process only (variants.py did the
same on images in [0, 1] with black fill, seed 0). Records go to formulation.jsonl."""
import sys

from clustpy_acedec._model import SubspaceClusteringModel, float32_region
from protocol import acedec, fit_and_record, usps

package_formulation = SubspaceClusteringModel._augmentation_loss


def decoded_from_z_aug(self, x_aug, rotated, betas, labels):
    # the package's term with x_aug's own rotated embedding in the place of x's: its mix of the two is then
    # x_aug's embedding alone (one more encoder pass per step, the same loss and gradient)
    z_aug = self.autoencoder.encode(x_aug)
    with float32_region(z_aug):  # as the package rotates
        rotated_aug = self.layer.rotate(z_aug.float())
    return package_formulation(self, x_aug, rotated_aug, betas, labels)


SubspaceClusteringModel._augmentation_loss = decoded_from_z_aug
seed = int(sys.argv[1])
X, y = usps()
fit_and_record(acedec(seed), X, y, "formulation.jsonl", seed=seed, reconstruction="x_aug from z_aug (clustpy's)")
