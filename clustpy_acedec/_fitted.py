"""
What a fitted ACeDeC or ENRC does, the same for both: the fitted attributes set at once, persistence
(:mod:`clustpy_acedec._persistence`), and the embedding of new data (the rotated space). The ``fit`` pipelines
that produce a fitted estimator are :mod:`clustpy_acedec._estimator`.
"""

import os

import numpy as np
import torch
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from clustpy_acedec._distributed import Collective, agreed, current_collective
from clustpy_acedec._epochs import encode_all
from clustpy_acedec._network import network_input
from clustpy_acedec._persistence import load_estimator, save_estimator
from clustpy_acedec._validation import check_data, check_feature_names


class SubspaceClustererMixin(TransformerMixin, ClusterMixin, BaseEstimator):
    """What ACeDeC and ENRC share after ``fit``: persistence, embedding of new data, the rotated embedding."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False  # the same random_state gives the same fit on the CPU
        if tags.transformer_tags is not None:
            tags.transformer_tags.preserves_dtype = ["float32"]  # the network computes in float32
        return tags

    def _set_fitted(self, attributes: dict, collective: Collective | None) -> None:
        """Store the fitted attributes, all at once at the end of ``fit``: a fit that raised leaves the estimator
        as it was. ``collective``: the ranks of a distributed fit, whose ``save`` is collective."""
        for name, value in attributes.items():
            if name == "feature_names_in_" and value is None:  # scikit-learn's convention: absent without names
                self.__dict__.pop(name, None)
            else:
                setattr(self, name, value)
        self._fitted_across_ranks = collective is not None

    # ------------------------------------------------------------------------------------- persistence
    def save(self, path: "str | os.PathLike") -> None:
        """
        Save the fitted estimator: its parameters and fitted attributes as JSON, its tensors (network weights,
        V, β, centres) as tensors; no pickled Python objects (:mod:`clustpy_acedec._persistence`). In a
        torch.distributed process group, after a distributed fit, call it on every rank, as ``fit``: rank 0
        writes (every rank holds the same model), and every rank returns once the file is written, or raises when
        rank 0 could not write it, so that any rank may load it next. A model fitted in one process (also inside
        :func:`clustpy_acedec.distributed.single_process`) or loaded from a file is saved by the rank that calls
        ``save``.

        Parameters
        ----------
        path : str | Path
            target file
        """
        collective = current_collective() if getattr(self, "_fitted_across_ranks", False) else None
        if collective is None:
            save_estimator(self, path)
            return
        agreed(collective, lambda: save_estimator(self, path) if collective.is_main else None)

    @classmethod
    def load(cls, path: "str | os.PathLike", device: "str | torch.device | None" = None,
             network: "torch.nn.Module | None" = None) -> "SubspaceClustererMixin":
        """
        Load an estimator saved with :meth:`save`, reading the file with ``torch.load(weights_only=True)``: a
        file cannot run code when it is opened.

        Parameters
        ----------
        path : str | Path
            the file
        device : torch.device | str | int | None
            where to put the model; None: CUDA when available, else the CPU
        network : type | Callable | torch.nn.Module | None
            only for a network class of your own (clustpy's FeedforwardAutoencoder / ConvolutionalAutoencoder and
            :class:`clustpy_acedec.networks.SmallConvAutoencoder` are rebuilt by themselves): its class (called
            with the recorded constructor arguments), a factory without arguments, or an instance; it receives
            the saved weights

        Returns
        -------
        estimator
            the fitted estimator; its predictions equal those of the saved one

        Raises
        ------
        ValueError
            for a file that is not a clustpy-acedec model, is truncated, carries pickled objects, was written by a
            newer major format version or holds another class
        """
        return load_estimator(cls, path, device=device, network=network)

    # ------------------------------------------------------------------------------------- after fit
    def _embed(self, X: ArrayLike) -> torch.Tensor:
        check_is_fitted(self, "model_")
        check_feature_names(getattr(self, "feature_names_in_", None), X, type(self).__name__)
        X_np = check_data(X, min_samples=1)
        n_features = int(np.prod(X_np.shape[1:]))
        if n_features != self.n_features_in_:
            raise ValueError(f"X has {n_features} features, but {type(self).__name__} is expecting "
                             f"{self.n_features_in_} features as input (fitted on samples of shape "
                             f"{self.input_shape_}, got {X_np.shape[1:]})")
        if tuple(X_np.shape[1:]) != self.input_shape_:
            # samples in the fit's shape, or flat rows of that many features read in C order (numpy's reshape);
            # any other shape of the same size (channels first instead of last, say) would be a silent guess
            if X_np.ndim != 2:
                raise ValueError(f"X holds samples of shape {X_np.shape[1:]}; {type(self).__name__} was fitted on "
                                 f"samples of shape {self.input_shape_}: pass them in that shape or flattened to "
                                 f"{self.n_features_in_} features")
            if getattr(self.model_.autoencoder, "allow_nd_input", False):  # e.g. convolutional: the fit's shape
                X_np = X_np.reshape(len(X_np), *self.input_shape_)
        device = next(self.model_.parameters()).device
        # placed as the fit's data were (not by a data_placement set after the fit): streamed from the host if the
        # fit streamed, otherwise on the device when it fits there
        placement = "host" if getattr(self, "data_placement_", "device") == "host" else "auto"
        data = network_input(X_np, self.model_.autoencoder, device, placement)
        return encode_all(self.model_.autoencoder, data)

    def _rotated(self, X: ArrayLike) -> torch.Tensor:
        embedded = self._embed(X)
        with torch.no_grad():
            return self.model_.layer.rotate(embedded)

    def transform_rotated(self, X: ArrayLike) -> np.ndarray:
        """
        The whole rotated embedding V^T enc(X), all d dimensions (cluster and shared space; ENRC: every
        subspace), in the order of ``betas_``' columns.

        Parameters
        ----------
        X : array-like
            data of the shape seen in fit

        Returns
        -------
        rotated : np.ndarray
            shape (n_samples, d)
        """
        return self._rotated(X).cpu().numpy()
