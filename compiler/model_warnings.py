"""Warnings about a model that loads without errors: settings and layers that change nothing
(a delay of the model's steps or more, a surrogate no spike function uses, a hardware setting no
layer reads), and choices that undo each other (a loss that trains another readout than the one
the accuracy is measured by, an ASN layer decoding with another kernel than its source predicts
with). Each is located at the setting or argument it is about."""
from __future__ import annotations

import math

from snnc import ir
from snnc.dsl import ast
from snnc.errors import Diagnostics, Loc


class ModelWarnings:
    """The warnings of one loaded model (its typed graph and its statements), added to ``diag``."""

    def __init__(self, graph: ir.Graph, stmts, layer_decls: dict, diag: Diagnostics):
        self.graph = graph
        self.stmts = stmts
        self.layer_decls = layer_decls          # layer name -> its ast.LayerDecl
        self.diag = diag

    def run(self) -> None:
        self._warn_unused()
        self._warn_asn_kernels()
        self._warn_long_delays()
        self._warn_loss_readout()
        self._warn_unused_hardware()
        self._warn_unused_surrogates()
        self._warn_long_tbptt()

    def _warn_unused(self) -> None:
        """An input or layer no output depends on."""
        graph = self.graph
        used = {o.source for o in graph.outputs}
        for layer in reversed(graph.layers):
            if layer.name in used:
                used.add(layer.source)
        for node in graph.inputs + graph.layers:
            if node.name not in used:
                kind = "input" if isinstance(node, ir.Input) else "layer"
                self.diag.warn(node.loc, f"{kind} '{node.name}' does not reach any output")

    def _arg_loc(self, layer, name: str) -> Loc:
        """Where the layer's operator argument ``name`` is written (``delay = 12``), else the
        layer's statement."""
        decl = self.layer_decls.get(layer.name)
        arg = next((a for a in decl.op.args if a.name == name), None) if decl else None
        return arg.loc if arg is not None else layer.loc

    def _warn_long_delays(self) -> None:
        """A layer whose delay is the model's steps or more receives nothing in a sample (the
        events of step t arrive at step t + delay): accepted without a word until now."""
        graph = self.graph
        steps = graph.time.steps
        for layer in graph.layers:
            d = int(getattr(layer, "delay", 0) or 0)
            if d >= steps:
                self.diag.warn(self._arg_loc(layer, "delay"),
                               f"layer '{layer.name}' has delay = {d} steps, not fewer than the "
                               f"model's {steps} steps: it receives no input in a sample",
                               "a delay is counted in time steps (or a time, a whole number of "
                               "dt)")

    def _warn_asn_kernels(self) -> None:
        """An ASN layer decodes its ASN source correctly only when its tau_beta is the source's
        tau_eta (docs/semantics.md section 3): warn where they differ."""
        graph = self.graph
        for layer in graph.layers:
            n = getattr(layer, "neuron", None)
            if not isinstance(n, ir.ASN):
                continue
            src = graph.node(layer.source)
            while isinstance(src, ir.Flatten):
                src = graph.node(src.source)
            up = getattr(src, "neuron", None)
            if isinstance(up, ir.ASN) and not math.isclose(up.eta, n.tau_beta, rel_tol=1e-9):
                self.diag.warn(layer.loc, f"layer '{layer.name}' decodes with tau_beta = "
                                          f"{n.tau_beta * 1e3:g} ms, but '{src.name}' predicts its "
                                          f"spikes with tau_eta = {up.eta * 1e3:g} ms",
                               f"set tau_eta = {n.tau_beta * 1e3:g} ms in '{src.name}' (or the same "
                               "tau_beta in both) so that the spikes decode to the sender's "
                               "prediction")

    def _warn_loss_readout(self) -> None:
        """A loss that trains another quantity than the first output's readout predicts from
        (``loss = first_spike`` with a ``count`` readout): training would not improve what the
        accuracy measures."""
        graph = self.graph
        if graph.train is None:
            return
        found = loss_readout_mismatch(graph, graph.train.loss)
        if found is None:
            return
        block = _block(self.stmts, "train")
        loc = next((st.value.loc for st in block.settings if st.key == "loss"), block.loc)
        self.diag.warn(loc, f"loss = {found[0]}", found[1], setting="train.loss")

    def _warn_unused_hardware(self) -> None:
        """A `hardware` setting no part of the model reads (a `current` format without a CubaLIF
        layer, `leak_digits` without a multiply leak, `lanes` where every layer has its own, ...)
        changes nothing: say so rather than accept it without a word."""
        graph = self.graph
        block = _block(self.stmts, "hardware")
        if block is None:
            return
        neurons = [getattr(layer, "neuron", None) for layer in graph.layers]
        leaky = [n for n in neurons if isinstance(n, (ir.LIF, ir.CubaLIF, ir.ALIF, ir.ASN))]
        decay = graph.hardware.decay
        unused = {
            "lanes": (ir.every_layer_sets_lanes(graph), "every layer sets its own `lanes`"),
            "current": (not any(isinstance(n, ir.CubaLIF) for n in neurons),
                        "only CubaLIF neurons have a synaptic current"),
            "adaptation": (not any(isinstance(n, (ir.ALIF, ir.ASN)) for n in neurons),
                           "only ALIF and ASN neurons have an adaptation state"),
            "inputs": (not any(isinstance(i.encoding, ir.Direct) for i in graph.inputs),
                       "only `direct` inputs carry values in this format"),
            "decay": (all(n.leak is not None for n in leaky),
                      "no layer takes it: only LIF, CubaLIF, ALIF and ASN neurons decay, and "
                      "their own `leak` comes first" if leaky else
                      "only LIF, CubaLIF, ALIF and ASN neurons decay"),
            "leak_digits": (not any((n.leak or decay) == "multiply" for n in leaky),
                            "it rounds the coefficients of a `multiply` leak, and no layer "
                            "has one"),
        }
        for st in block.settings:
            found = unused.get(st.key)
            if found is not None and found[0]:
                self.diag.warn(st.key_loc, f"hardware setting '{st.key}' has no effect in "
                                           f"model '{graph.name}'", found[1])

    def _warn_unused_surrogates(self) -> None:
        """A surrogate no spike function uses: a layer's own on a ReLU layer (which does not
        spike), and the train block's where every spiking layer has its own (or none spikes)."""
        graph = self.graph
        spiking = []
        for layer in graph.layers:
            neuron = getattr(layer, "neuron", None)
            if neuron is None:
                continue
            if not isinstance(neuron, ir.ReLU):
                spiking.append(layer)
            elif getattr(layer, "surrogate", None) is not None:
                self.diag.warn(self._arg_loc(layer, "surrogate"),
                               f"layer '{layer.name}' has no spike function (ReLU): its surrogate "
                               "has no effect", "a surrogate replaces the derivative of a spiking "
                                                "neuron's threshold step")
        block = _block(self.stmts, "train")
        given = next((st for st in block.settings if st.key == "surrogate"), None) if block else None
        if given is not None and all(layer.surrogate is not None for layer in spiking):
            self.diag.warn(given.key_loc, "the train block's surrogate has no effect: "
                           + ("every spiking layer sets its own" if spiking else
                              "no layer spikes (ReLU)"))

    def _warn_long_tbptt(self) -> None:
        """A truncation window of the model's steps or more never cuts the gradient: it is full
        BPTT, accepted without a word (as a delay that long was)."""
        graph = self.graph
        if graph.train is None or not 0 < graph.time.steps <= graph.train.tbptt:
            return
        block = _block(self.stmts, "train")
        st = next(st for st in block.settings if st.key == "tbptt")
        self.diag.warn(st.key_loc, tbptt_note(f"tbptt = {graph.train.tbptt}", graph),
                       setting="train.tbptt")



def _block(stmts, kind: str) -> ast.Block | None:
    """The model's block ``kind`` (``train``, ``hardware``); a duplicate was an error before."""
    return next((s for s in stmts if isinstance(s, ast.Block) and s.kind == kind), None)


def tbptt_note(given: str, graph: ir.Graph) -> str:
    """What a truncation window ``given`` (``tbptt = 100``, ``--tbptt 100``) of the model's steps
    or more does: nothing."""
    return (f"{given} is not shorter than the model's {graph.time.steps} steps: the "
            "gradient is never truncated (full BPTT, as tbptt = 0)")


#: the readout each loss trains (cross_entropy follows the output's readout)
LOSS_READOUT = {"first_spike": "first_spike", "mse_count": "count"}


def loss_readout_mismatch(graph: ir.Graph, loss: str) -> tuple[str, str] | None:
    """Where ``loss`` trains another quantity than the first output's readout predicts from
    (``first_spike`` with a ``count`` readout), the warning's text after ``loss = `` and its hint:
    training would not improve what the accuracy measures. None where they agree."""
    want = LOSS_READOUT.get(loss)
    if want is None or not graph.outputs or graph.outputs[0].readout == want:
        return None
    out = graph.outputs[0]
    trains = {"first_spike": "first-spike times", "count": "spike counts"}[want]
    return (f"{loss} trains the output's {trains}, but output '{out.source}' predicts from its "
            f"{out.readout} readout",
            f"read it with `output {out.source} = {want}`, or use `loss = cross_entropy`, which "
            "trains the readout given")
