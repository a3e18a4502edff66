"""
The network that ACe/DeC and ENRC train: autoencoder + subspace layer + one objective per group of spaces.

ACe/DeC and ENRC are two configurations of this module:

========================  ===================================  ==========================================
                          ACe/DeC (IJCAI 2021)                  ENRC (AAAI 2020)
========================  ===================================  ==========================================
spaces                    cluster space + shared space (S=2)    S clusterings (optionally one of 1 cluster)
β                         sigmoid(b)                            softmax over S of B
objectives                base's (DCN / DEC / IDEC) + mean      mini-batch k-means for all clusterings
normalisation             sum over points (Eq. 1)               per cluster size (Eq. 4)
========================  ===================================  ==========================================
"""

import numpy as np
import torch

from clustpy_acedec.losses import (compression_loss, orthogonality_loss, profiled_compression_loss,
                                   reconstruction_loss)
from clustpy_acedec._objectives import SharedMeanObjective, SpaceObjective
from clustpy_acedec._subspace import SubspaceLayer


#: Points per chunk of the whole-data passes (prediction, candidate losses): bounds their N x K temporaries.
CHUNK_SIZE = 65536


class SubspaceClusteringModel(torch.nn.Module):
    """
    Autoencoder with the subspace layer in its bottleneck and the compression objectives of its spaces.

    Parameters
    ----------
    autoencoder : torch.nn.Module
        a clustpy autoencoder (``encode``/``decode``)
    layer : SubspaceLayer
        V and β
    objectives : list
        :class:`SpaceObjective` instances; together they cover every space of ``layer`` once
    normalization : str
        "points" (ACe/DeC) or "cluster_size" (ENRC), see :func:`clustpy_acedec.losses.compression_loss`
    """

    def __init__(self, autoencoder: torch.nn.Module, layer: SubspaceLayer, objectives: list, normalization: str):
        super().__init__()
        covered = sorted(s for objective in objectives for s in objective.spaces)
        if covered != list(range(layer.n_spaces)):
            raise ValueError(f"objectives must cover the spaces 0..{layer.n_spaces - 1} once each, got {covered}")
        self.autoencoder = autoencoder
        self.layer = layer
        self.objectives = torch.nn.ModuleList(objectives)
        self.normalization = normalization
        self.shared_spaces = [s for o in objectives if _is_shared(o) for s in o.spaces]
        # The label columns of each objective in the (N, S) label matrix, in objective order.
        bounds = np.cumsum([0] + [len(o.spaces) for o in objectives]).tolist()
        self.label_columns = [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]
        self.n_clusters_max = max(c.shape[0] for c in self.cluster_centers())

    def clustering_loss(self, x: torch.Tensor, x_aug: torch.Tensor | None = None) -> tuple:
        """
        Loss of one batch in the clustering phase: compression of all spaces (ACe/DeC Eq. 1 and 5, ENRC Eq. 4)
        plus the reconstruction of dec(V V^T z) (ACe/DeC Eq. 1, ENRC Eq. 9 with λ = 1), and, with ``x_aug``,
        ACe/DeC's augmentation terms (§2.2).

        Under an active autocast (``precision="bfloat16"``) only the autoencoder's ``encode``/``decode`` run in
        reduced precision; the subspace layer, the objectives (assignments, distances, centres) and the losses
        run in float32 (:func:`float32_region`).

        Parameters
        ----------
        x : torch.Tensor
            the input batch
        x_aug : torch.Tensor | None
            an augmented version of x: z_aug is pulled to the centres x was assigned to, and x_aug is
            reconstructed from x's cluster-space and x_aug's shared-space coordinates

        Returns
        -------
        tuple : (torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor)
            total loss, embedded batch z, rotated batch V^T z (both detached), labels (N, S)
        """
        z = self.autoencoder.encode(x)
        with float32_region(z):
            z = z.float()
            betas = self.layer.betas()
            rotated = self.layer.rotate(z)
            loss, labels = self._compression_loss(rotated, betas)
        loss = loss + self._reconstruction_loss(x, rotated)
        if x_aug is not None:
            loss = loss + self._augmentation_loss(x_aug, rotated, betas, labels)
        return loss, z.detach(), rotated.detach(), labels

    def initial_phase_loss(self, z: torch.Tensor) -> tuple:
        """
        Loss of one batch of the fixed embedding in the initial phase (ACe/DeC §2.2, ENRC §2.6): compression of
        all spaces plus L_orth (ENRC Eq. 8), which keeps V approximately orthogonal while the autoencoder is
        fixed; ENRC drops it afterwards, where the reconstruction controls V's degeneracy. No decoder pass.

        Parameters
        ----------
        z : torch.Tensor
            enc(x) of the batch, computed once before the phase

        Returns
        -------
        tuple : (torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor)
            total loss, z, rotated batch V^T z (detached), labels (N, S)
        """
        with float32_region(z):
            z = z.float()
            rotated = self.layer.rotate(z)
            loss, labels = self._compression_loss(rotated, self.layer.betas())
            loss = loss + orthogonality_loss(z, self.layer.V)
        return loss, z, rotated.detach(), labels

    def _compression_loss(self, rotated: torch.Tensor, betas: torch.Tensor) -> tuple:
        """L_comp of every space, normalised as the method asks (:func:`clustpy_acedec.losses.compression_loss`),
        and the labels (N, S) it used."""
        losses, labels = zip(*(objective.loss(rotated, betas, self.layer) for objective in self.objectives))
        labels = torch.cat(labels, 1)
        return compression_loss(torch.cat(losses, 1), labels, self.normalization, self.n_clusters_max), labels

    def _reconstruction_loss(self, x: torch.Tensor, rotated: torch.Tensor) -> torch.Tensor:
        """L_rec of dec(V r): the decoder under the caller's precision, V r and the loss in float32."""
        with float32_region(rotated):
            decoder_input = self.layer.rotate_back(rotated)
        reconstruction = self.autoencoder.decode(decoder_input)
        with float32_region(x):
            return reconstruction_loss(x, reconstruction.float())

    def _augmentation_loss(self, x_aug: torch.Tensor, rotated: torch.Tensor, betas: torch.Tensor,
                           labels: torch.Tensor) -> torch.Tensor:
        z_aug = self.autoencoder.encode(x_aug)
        with float32_region(z_aug):
            rotated_aug = self.layer.rotate(z_aug.float())
            per_sample = [objective.augmented_loss(rotated_aug, betas, self.layer, labels[:, columns])
                          for objective, columns in zip(self.objectives, self.label_columns)]
            loss = compression_loss(torch.cat(per_sample, 1), labels, self.normalization, self.n_clusters_max)
            if self.shared_spaces:
                # x's cluster-space coordinates with x_aug's shared-space coordinates must decode to x_aug: the
                # encoder has to keep what the augmentation changes out of the cluster space. The soft mix stands
                # in for the projections onto the two spaces and does not train β: through β this term would
                # rather move every dimension the augmentation changes into the shared space.
                shared_weight = betas[self.shared_spaces].sum(0).detach()
                mixed = (1.0 - shared_weight) * rotated + shared_weight * rotated_aug
            else:
                mixed = rotated_aug
        return loss + self._reconstruction_loss(x_aug, mixed)

    def after_step(self, embedded: torch.Tensor, rotated: torch.Tensor, labels: torch.Tensor) -> None:
        """Gradient-free updates (mini-batch k-means centres, running means) after the optimiser step."""
        for objective, columns in zip(self.objectives, self.label_columns):
            objective.update(embedded, rotated, labels[:, columns])

    def end_epoch(self) -> None:
        for objective in self.objectives:
            objective.end_epoch()

    @torch.no_grad()
    def predict_embedded(self, embedded: torch.Tensor, chunk_size: int = CHUNK_SIZE) -> torch.Tensor:
        """Hard labels (N, S) of already embedded points, chunk by chunk (no N x K distance matrix at once)."""
        betas = self.layer.betas()
        return torch.cat([self._labels(self.layer.rotate(chunk), betas) for chunk in embedded.split(chunk_size)])

    def _labels(self, rotated: torch.Tensor, betas: torch.Tensor) -> torch.Tensor:
        """Hard labels (N, S) of rotated points, one column per space in objective order (``label_columns``)."""
        return torch.cat([o.predict(rotated, betas, self.layer) for o in self.objectives], 1)

    @torch.no_grad()
    def embedded_loss(self, embedded: torch.Tensor, chunk_size: int = CHUNK_SIZE) -> float:
        """
        Loss of the whole embedded data set with L_orth as regulariser (the initial phase's objective), as the
        size-weighted mean of the losses of chunks of ``chunk_size`` points (the exact full-batch loss for
        data sets up to that size). Used to compare initial candidates.
        """
        total = sum(float(self.initial_phase_loss(chunk)[0]) * chunk.shape[0] for chunk in embedded.split(chunk_size))
        return total / embedded.shape[0]

    @torch.no_grad()
    def profiled_loss(self, embedded: torch.Tensor, chunk_size: int = CHUNK_SIZE) -> float:
        """
        :meth:`embedded_loss` with β at its optimum for the current V and centres
        (:func:`clustpy_acedec.losses.profiled_compression_loss`): the squared distance of every point to its
        centre in every space, under the β that minimises their sum, plus L_orth. It compares initial candidates
        whose β has not settled yet: ACeDeC's screening (our addition, issue 20), whose candidates carry the
        k-means objective and the shared mean for every base. On a model with DEC's objective it would score the
        squared distances of the cluster space without the KL divergence.
        """
        betas, centers = self.layer.betas(), self.cluster_centers()
        spaces = [space for objective in self.objectives for space in objective.spaces]  # the label columns' spaces
        deviations = torch.zeros(self.layer.n_spaces, self.layer.V.shape[1], device=embedded.device)
        orthogonality = 0.0
        for chunk in embedded.split(chunk_size):
            rotated = self.layer.rotate(chunk)
            labels = self._labels(rotated, betas)
            for column, space in enumerate(spaces):
                deviations[space] += (rotated - centers[space][labels[:, column]]).square().sum(0)
            orthogonality += float(orthogonality_loss(chunk, self.layer.V)) * chunk.shape[0]
        n = embedded.shape[0]
        return float(profiled_compression_loss(deviations / n)) + orthogonality / n

    def cluster_centers(self) -> list:
        """Centres per space, in space order, in the rotated space."""
        by_space = {}
        for objective in self.objectives:
            for space, centers in zip(objective.spaces, objective.cluster_centers(self.layer)):
                by_space[space] = centers
        return [by_space[s] for s in range(self.layer.n_spaces)]


def float32_region(tensor: torch.Tensor):
    """
    Autocast switched off on ``tensor``'s device: the subspace layer, the distances that decide the
    assignments, the centres and the losses run in float32 even when the network's forward pass runs under
    bfloat16 autocast (which would run ``z @ V`` and the matrix products of the distances in bfloat16).
    Without an active autocast this changes nothing.
    """
    return torch.autocast(tensor.device.type, enabled=False)


def _is_shared(objective: SpaceObjective) -> bool:
    return isinstance(objective, SharedMeanObjective)
