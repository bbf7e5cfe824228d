"""The PyTorch target: a ``.snn`` graph as a trainable ``torch.nn.Module``.

``SNN(graph, weights=None, qat=False)`` builds the module (:mod:`.model`); surrogate gradients are in
:mod:`.surrogates`, the neuron recurrences (a custom autograd scan for the built-in kinds) in
:mod:`.neurons`, the layers in :mod:`.layers` and the quantization-aware helpers in :mod:`.qat`.
"""
from snnc.backends.torch.model import SNN, Readout, SNNOutput, encode_batch, first_spike_time
from snnc.backends.torch.surrogates import SURROGATES, Surrogate, resolve as resolve_surrogate

__all__ = ["SNN", "SNNOutput", "Readout", "encode_batch", "first_spike_time", "SURROGATES",
           "Surrogate", "resolve_surrogate"]
