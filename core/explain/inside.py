"""Inside the network: the test digits in each stage's own feature space, squeezed to two
dimensions, and how well each stage separates the classes.

:func:`stage_features` runs digits through a private copy of the model and keeps every stage's
output, one row per digit (the raw pixels first, then each stage as ``core.explain.journey`` names
it). :func:`pca` projects a stage's rows onto their two directions of largest variance (and places
a new digit on the same map); :func:`nearest` finds a digit's closest rows; :func:`separation` is
the share of digits whose 5 nearest other digits, by Euclidean distance in that stage's features,
vote for their own label: a number that rises as the layers untangle the classes.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from core.device import model_device
from core.explain.journey import stage_modules
from core.models.copies import borrowed_copy

INPUT = "input"  # the raw pixels' stage
VOTERS = 5  # the neighbours whose labels vote in :func:`separation`


def stage_features(model: nn.Module, images: torch.Tensor, batch: int = 500) -> dict[str, torch.Tensor]:
    """Every stage's output for normalised ``N x 1 x 28 x 28`` digits, flattened to ``N x D``, in
    forward order with the raw pixels first (``"input"``); the output layer (the logits) is left out."""
    if images.dim() != 4 or images.shape[1:] != (1, 28, 28):
        raise ValueError(f"expected N x 1 x 28 x 28 digits, got {tuple(images.shape)}")
    with borrowed_copy(model) as clone:
        modules = stage_modules(clone)
        rows: dict[str, list[torch.Tensor]] = {name: [] for name in modules if name != "output"}
        handles = [
            modules[name].register_forward_hook(
                lambda _m, _i, output, name=name: rows[name].append(output.detach().flatten(1).float().cpu())
            )
            for name in rows
        ]
        try:
            with torch.inference_mode():
                for start in range(0, len(images), batch):
                    clone(images[start : start + batch].to(model_device(clone)))
        finally:
            for handle in handles:
                handle.remove()
    return {INPUT: images.flatten(1).float().cpu(), **{name: torch.cat(parts) for name, parts in rows.items()}}


@dataclass(frozen=True, eq=False)  # tensors inside
class Projection:
    """A stage's features on their first principal directions: ``coords = (features - mean) @ components.T``."""

    mean: torch.Tensor  # D
    components: torch.Tensor  # k x D, unit rows, by decreasing variance
    coords: torch.Tensor  # N x k
    explained: tuple[float, ...]  # the share of the variance along each direction

    def place(self, features: torch.Tensor) -> torch.Tensor:
        """Where new rows (``M x D``, or one ``D``) land on the same map."""
        return (features.double() - self.mean) @ self.components.T


def pca(features: torch.Tensor, k: int = 2) -> Projection:
    """The rows of ``features`` (``N x D``) on their ``k`` directions of largest variance, by the
    singular value decomposition of the centred rows (in float64). Each direction's sign is made
    to put the larger coordinates' side positive, so a map does not flip from one run to the next."""
    data = features.double()
    mean = data.mean(0)
    centred = data - mean
    _u, singular, vt = torch.linalg.svd(centred, full_matrices=False)
    components = vt[:k].clone()
    coords = centred @ components.T
    flip = torch.sign(coords.gather(0, coords.abs().argmax(0, keepdim=True))).squeeze(0)
    flip[flip == 0] = 1.0
    components, coords = components * flip[:, None], coords * flip
    variance = singular.pow(2)
    explained = tuple(float(v) for v in (variance[:k] / variance.sum()))
    return Projection(mean, components, coords, explained)


def nearest(reference: torch.Tensor, query: torch.Tensor, k: int = 8) -> list[int]:
    """The rows of ``reference`` (``N x D``) closest to ``query`` (``D``) by Euclidean distance,
    nearest first (ties: the lower row)."""
    distances = (reference.double() - query.double()).pow(2).sum(1)
    return sorted(range(len(distances)), key=lambda i: (float(distances[i]), i))[:k]


def separation(features: torch.Tensor, labels: torch.Tensor, voters: int = VOTERS) -> float:
    """The share of rows whose ``voters`` nearest other rows (Euclidean) carry their own label
    most often (a tie: the nearest of the tied labels wins): a k-nearest-neighbour vote, leaving
    each row out of its own vote."""
    data = features.double()
    squared = data.pow(2).sum(1)
    distances = squared[:, None] + squared[None, :] - 2 * data @ data.T
    distances.fill_diagonal_(float("inf"))
    order = distances.topk(voters, largest=False).indices  # N x voters, nearest first
    votes = labels[order]
    right = 0
    for row, neighbours in enumerate(votes.tolist()):
        counts: dict[int, int] = {}
        for label in neighbours:
            counts[label] = counts.get(label, 0) + 1
        best = max(counts.values())
        winner = next(label for label in neighbours if counts[label] == best)  # the nearest of the tied
        right += winner == int(labels[row])
    return right / len(labels)
