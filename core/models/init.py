"""Initial weights drawn from a generator of one's own, never from torch's global one.

A dashboard server runs every student's session and a training run as threads of one process,
and torch's global random generator is shared by all of them: a page that reseeds it or draws
from it would change what the training run draws next. So whatever must be random and
reproducible (a run's starting weights, the architecture page's "as initialised" weights, the
sanity check's random network) is drawn here from a ``torch.Generator`` passed in, with the same
distributions the modules use by default:

- ``nn.Conv2d`` / ``nn.Linear``: PyTorch's default, weight and bias uniform in +-1/sqrt(fan-in)
  (``kaiming_uniform_(a=sqrt(5))`` for the weight works out to exactly that bound);
- ``nn.BatchNorm*``: scale 1, shift 0, running statistics reset (nothing random);
- a module with its own scheme (LeNet-5 of 1998, appendix A) provides ``reset_parameters(generator)``.
"""

from __future__ import annotations

import inspect
import math

import torch
from torch import nn

_DEFAULT = (nn.Conv2d, nn.Linear)
_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d)


def _takes_generator(module: nn.Module) -> bool:
    reset = getattr(type(module), "reset_parameters", None)
    return callable(reset) and "generator" in inspect.signature(reset).parameters


@torch.no_grad()
def initialise(model: nn.Module, generator: torch.Generator) -> nn.Module:
    """Draw every parameter of ``model`` afresh from ``generator`` (in place; returns the model).

    Raises TypeError for a module with parameters whose initial distribution is not known here,
    so a new kind of layer cannot silently keep weights drawn from the global generator.
    """
    done: set[int] = set()  # parameters already drawn by a module's own scheme
    for module in model.modules():
        if _takes_generator(module):
            module.reset_parameters(generator=generator)
            done.update(id(p) for p in module.parameters())
    for module in model.modules():
        own = [p for p in module.parameters(recurse=False) if id(p) not in done]
        if not own:
            continue
        if isinstance(module, _DEFAULT):
            fan_in = module.weight[0].numel()
            bound = 1.0 / math.sqrt(fan_in)
            for parameter in own:
                parameter.uniform_(-bound, bound, generator=generator)
        elif isinstance(module, _NORMS):
            module.reset_parameters()
        else:
            raise TypeError(
                f"no known initial distribution for {type(module).__name__}; "
                "give it reset_parameters(generator=...) or add it to core/models/init.py"
            )
    return model


def seeded(seed: int) -> torch.Generator:
    """A CPU generator of one's own, seeded."""
    return torch.Generator().manual_seed(int(seed))
