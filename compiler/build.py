"""From a parsed ``.snn`` file to the typed graph, with every problem reported as a located error.

``load(path)`` parses the file and the files it ``use``s, checks everything it can (collecting
independent errors rather than stopping at the first), and returns the :class:`ir.Graph` plus warnings.
"""
from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field

from snnc import catalog, ir
from snnc.dsl import ast
from snnc.dsl.parser import parse_file
from snnc.errors import Diagnostics, Loc, SnnError, SnnErrors
from snnc.model_warnings import ModelWarnings
from snnc.neurons import (NeuronTemplate, bad_constant_argument, check_neuron_def,
                          constant_error)
from snnc.values import ParamSpec, bind_args, coerce, did_you_mean, failed, options_text
from snnc.types import Fixed

#: The largest tensor (elements per time step) and parameter count a model may declare.
MAX_ELEMENTS = 1 << 24
#: what one dimension of an input's shape is
_DIMENSION = ParamSpec("dimension", "int")


@dataclass
class Loaded:
    """The result of loading a model file: the graph and the warnings found on the way."""

    graph: ir.Graph
    warnings: list[SnnError] = field(default_factory=list)


def load(path: str | os.PathLike) -> Loaded:
    """Parse, check and build the model in ``path``. Raises SnnError / SnnErrors on bad input."""
    module = parse_file(path, keep_going=True)
    return build(module)


def load_text(text: str, path: str = "<input>") -> Loaded:
    from snnc.dsl.parser import parse_text

    return build(parse_text(text, path, keep_going=True))


def build(module: ast.Module) -> Loaded:
    return _Builder(module).run()


STAND_IN_DT = 1e-3     # checks after a missing or invalid `dt` (already an error) use it


class _Builder:
    def __init__(self, module: ast.Module):
        self.module = module
        self.diag = Diagnostics()
        self.errors: list[SnnError] = self.diag.errors
        self.dt: float | None = None
        self.steps: int | None = None
        self.templates: dict[str, NeuronTemplate] = {}
        self.reported: set = set()      # errors of user neurons' constants, reported once
        self.unread_use = False         # a `use`d file could not be read (its neurons unknown)

    # ------------------------------------------------------------------ driver
    def run(self) -> Loaded:
        stmts = self.module.statements
        self.parse_errors: list[SnnError] = []
        self._number_errors(self.module)
        neuron_defs = self._used_neurons(self.module, {_file_key(self.module.source.path)})
        neuron_defs += [s for s in stmts if isinstance(s, ast.NeuronDef)]
        name = self._model_name(stmts)
        time = self._time(stmts)
        self._neurons(neuron_defs)
        inputs = self._inputs([s for s in stmts if isinstance(s, ast.InputDecl)])
        layer_decls = [s for s in stmts if isinstance(s, ast.LayerDecl)]
        layers = self._layers(layer_decls, inputs)
        outputs = self._outputs([s for s in stmts if isinstance(s, ast.OutputDecl)], inputs, layers)
        train = self._train(stmts)
        hardware = self._hardware(stmts)
        self._drop_stand_in_errors()
        self.diag.raise_if_errors()
        graph = ir.Graph(name, time, tuple(inputs.values()), tuple(layers), tuple(outputs), train,
                         hardware)
        ModelWarnings(graph, stmts, self.layer_decls, self.diag).run()
        graph.verify()
        return Loaded(graph, self.diag.warnings)

    def _number_errors(self, module: ast.Module) -> None:
        """A parsed file's numbers out of range: reported with the other errors."""
        self.parse_errors.extend(module.errors)
        self.errors.extend(module.errors)

    def _drop_stand_in_errors(self) -> None:
        """A number out of range reads as 1 in the checks: an error they report at that number
        (or at its sign) is about the stand-in, not the file."""
        bad = {(e.loc.path, e.loc.line, e.loc.col) for e in self.parse_errors}

        def about_stand_in(err: SnnError) -> bool:
            loc = err.loc
            return loc is not None and any((loc.path, loc.line, loc.col + d) in bad for d in (0, 1))

        self.errors[:] = [e for e in self.errors
                          if any(e is p for p in self.parse_errors) or not about_stand_in(e)]

    def _first(self, stmts, kind: type, what: str):
        found = [s for s in stmts if isinstance(s, kind)]
        for dup in found[1:]:
            self.diag.error(dup.loc, f"duplicate {what}", f"first given at {found[0].loc}")
        return found[0] if found else None

    # ------------------------------------------------------------------ model and time
    def _model_name(self, stmts) -> str:
        decl = self._first(stmts, ast.ModelDecl, "`model` declaration")
        if decl is None:
            self.diag.error(Loc(self.module.source, 1, 1), "no `model` declaration",
                            "a model file starts with `model NAME`")
            return "model"
        return decl.name

    def _blocks(self, stmts, kind: str) -> ast.Block | None:
        found = [s for s in stmts if isinstance(s, ast.Block) and s.kind == kind]
        for dup in found[1:]:
            self.diag.error(dup.loc, f"duplicate `{kind}` block", f"first given at {found[0].loc}")
        return found[0] if found else None

    def _settings(self, block: ast.Block, specs: list[ParamSpec]) -> dict:
        by_name = {s.name: s for s in specs}
        values: dict = {}
        first: dict = {}
        misspelled: set[str] = set()
        for st in block.settings:
            spec = by_name.get(st.key)
            if spec is None:
                close = difflib.get_close_matches(st.key, list(by_name), n=1, cutoff=0.6)
                misspelled.update(close)
                self.diag.error(st.key_loc, f"unknown setting '{st.key}' in `{block.kind}` block",
                                did_you_mean(st.key, by_name)
                                or "known settings: " + ", ".join(by_name))
                continue
            if st.key in values:
                self.diag.error(st.key_loc, f"setting '{st.key}' is given twice in `{block.kind}`",
                                f"first given at {first[st.key]}")
                continue
            first[st.key] = st.key_loc
            try:
                if spec.kind == "surrogate":
                    values[st.key] = self._surrogate(st.value)
                else:
                    values[st.key] = coerce(spec, st.value, f"'{st.key}'", self.dt)
            except SnnError as err:
                self.errors.append(err)
                values[st.key] = None
        for spec in specs:
            if spec.name not in values:
                if spec.required and spec.name not in misspelled:  # else already reported
                    self.diag.error(block.loc, f"`{block.kind}` block needs '{spec.name}' "
                                               f"({spec.describe()})", f"add {spec.example()}")
                values.setdefault(spec.name, spec.default)
        return values

    def _time(self, stmts) -> ir.TimeSpec:
        block = self._blocks(stmts, "time")
        if block is None:
            anchor = next((s.loc for s in stmts if isinstance(s, ast.ModelDecl)),
                          Loc(self.module.source, 1, 1))
            self.diag.error(anchor, "no `time` block", "add e.g. time { dt = 1 ms; steps = 25 }")
            self.dt = STAND_IN_DT
            return ir.TimeSpec(1e-3, 1)
        values = self._settings(block, catalog.TIME_SETTINGS)
        # a missing or invalid dt is reported; a stand-in keeps it from failing every time
        # given in steps or use of `dt` after it (the model fails to build anyway)
        self.dt = values["dt"] if values["dt"] is not None else STAND_IN_DT
        steps = values["steps"]     # 1 to MAX_STEPS (catalog.TIME_SETTINGS), or None
        self.steps = steps
        return ir.TimeSpec(self.dt or 1e-3, steps or 1)

    # ------------------------------------------------------------------ neurons
    def _used_neurons(self, module: ast.Module, seen: set[str]) -> list[ast.NeuronDef]:
        found: list[ast.NeuronDef] = []
        base = os.path.dirname(module.source.path)
        for use in (s for s in module.statements if isinstance(s, ast.UseDecl)):
            if not use.path.strip():
                blank = "an empty" if not use.path else "a blank"
                self.diag.error(use.path_loc, f"`use` needs the path of a file, got {blank} string",
                                'write e.g. use "neurons/library.snn"')
                continue
            path = os.path.join(base, use.path)
            key = _file_key(path)
            if key == _file_key(module.source.path):
                self.diag.error(use.path_loc, f"the file uses itself ('{use.path}')",
                                "`use` names another file, of neuron definitions")
                continue
            if key in seen:
                continue            # read already (a cycle through other files is harmless)
            seen.add(key)
            if not os.path.exists(path):
                self.diag.error(use.path_loc, f"cannot find used file '{use.path}'",
                                f"looked for {path}")
                self.unread_use = True
                continue
            if not os.path.isfile(path):
                what = "a folder" if os.path.isdir(path) else "not a regular file"
                self.diag.error(use.path_loc, f"used file '{use.path}' is {what}",
                                "use a .snn file of neuron definitions")
                self.unread_use = True
                continue
            try:
                used = parse_file(path, keep_going=True)
            except SnnError as err:
                self.errors.append(err)
                self.unread_use = True
                continue
            self._number_errors(used)
            for st in used.statements:
                if isinstance(st, ast.NeuronDef):
                    found.append(st)
                elif not isinstance(st, ast.UseDecl):
                    self.diag.error(st.loc, "a used file may only define neurons (and use other files)",
                                    f"used from {use.loc}")
            found.extend(self._used_neurons(used, seen))
        return found

    def _neurons(self, defs: list[ast.NeuronDef]) -> None:
        # every neuron defined here or in a used file, those with errors included
        self.defined_neurons = {nd.name for nd in defs if nd.name not in catalog.NEURONS}
        first: dict[str, Loc] = {}
        for nd in defs:
            if nd.name in catalog.NEURONS:
                self.diag.error(nd.name_loc, f"'{nd.name}' is a built-in neuron kind; "
                                             "choose another name")
                continue
            if nd.name in first:
                self.diag.error(nd.name_loc, f"duplicate neuron '{nd.name}'",
                                f"first defined at {first[nd.name]}")
                continue
            self._keyword_name(nd.name, nd.name_loc, "a neuron")
            first[nd.name] = nd.name_loc
            template = check_neuron_def(nd, self.dt, self.errors)
            if template is not None:
                self.templates[nd.name] = template
                if not _reads_input(template):
                    self.diag.warn(nd.name_loc, f"neuron '{nd.name}' never reads `input`: the "
                                                "synaptic input of a layer of it changes nothing",
                                   "add `input` to an update, e.g. v = v + input")

    def _neuron(self, use: ast.NeuronUse, first_names: set[str]) -> ir.Neuron | None:
        if use.name in catalog.NEURONS:
            cls, specs = catalog.NEURONS[use.name]
            values = bind_args(specs, use.args, use.name, use.loc, self.errors, self.dt, positional=0)
            return None if failed(values) else cls(**_located(values, use))
        template = self.templates.get(use.name)
        if template is None:
            if use.name in first_names:
                return None  # its definition had errors, already reported
            if self.unread_use:
                return None  # maybe defined in the used file that could not be read (said)
            known = list(catalog.NEURONS) + list(first_names)
            self.diag.error(use.name_loc, f"unknown neuron '{use.name}'",
                            did_you_mean(use.name, known) or "built-in neurons: "
                            + ", ".join(k for k in catalog.NEURONS if k != "relu"))
            return None
        values = bind_args(list(template.specs), use.args, use.name, use.loc, self.errors, self.dt,
                           positional=0)
        if failed(values):
            return None
        neuron = template.instantiate(values)
        err = (bad_constant_argument(neuron, self.dt, use.loc)
               or constant_error(neuron, self.dt if self.dt is not None else STAND_IN_DT, use.loc))
        if err is not None:
            key = (str(err.loc), err.message, err.hint)
            if key not in self.reported:        # once, not again for each layer using the neuron
                self.reported.add(key)
                self.errors.append(err)
            return None
        return neuron

    def _surrogate(self, node: ast.Value) -> ir.Surrogate:
        if isinstance(node, ast.Name):
            name, args, loc = node.id, (), node.loc
        elif isinstance(node, ast.Call):
            name, args, loc = node.name, node.args, node.name_loc
        else:
            raise SnnError(node.loc, "a surrogate is a name or a call, e.g. fast_sigmoid(slope = 25)")
        canonical = catalog.SURROGATE_ALIASES.get(name, name)
        specs = catalog.SURROGATES.get(canonical)
        if specs is None:
            names = list(catalog.SURROGATES) + list(catalog.SURROGATE_ALIASES)
            raise SnnError(loc, f"unknown surrogate '{name}'",
                           did_you_mean(name, names) or "surrogates: " + ", ".join(catalog.SURROGATES))
        errors: list[SnnError] = []
        values = bind_args(specs, args, f"surrogate {name}", node.loc, errors, self.dt)
        if errors:
            raise SnnErrors(errors) if len(errors) > 1 else errors[0]
        return ir.Surrogate(canonical, tuple((s.name, float(values[s.name])) for s in specs))

    def _keyword_name(self, name: str, loc: Loc, what: str) -> None:
        """An error for a keyword declared as a name; the declaration is still checked (its uses
        are not reported again where they parse)."""
        err = catalog.keyword_error(name, loc, what)
        if err is not None:
            self.errors.append(err)

    # ------------------------------------------------------------------ inputs
    def _inputs(self, decls: list[ast.InputDecl]) -> dict[str, ir.Input]:
        inputs: dict[str, ir.Input] = {}
        self.names: dict[str, Loc] = {}
        for d in decls:
            if d.name in self.names:
                self.diag.error(d.name_loc, f"duplicate name '{d.name}'",
                                f"first declared at {self.names[d.name]}")
                continue
            self._keyword_name(d.name, d.name_loc, "an input")
            self.names[d.name] = d.name_loc
            shape = self._shape(d.shape, d.shape_loc, f"input '{d.name}'")
            encoding = self._encoding(d.encoding)
            if shape is not None and encoding is not None:
                inputs[d.name] = ir.Input(d.name, shape, encoding, d.loc)
        return inputs

    def _shape(self, dims: tuple[ast.Value, ...], loc, what) -> tuple[int, ...] | None:
        """The shape written ``[dims]``, or None after reporting what is wrong with it. Each
        dimension is an integer as the language's other integers (docs/language.md section 5:
        `64`, `64.0` or `1e2`)."""
        if not dims:
            self.diag.error(loc, f"{what} needs a shape, e.g. [64] or [1, 28, 28]")
            return None
        if len(dims) > 3:
            self.diag.error(loc, f"{what} has {len(dims)} dimensions; at most 3 ([channels, "
                                 "height, width]) are supported")
            return None
        shape = []
        for i, node in enumerate(dims, 1):
            owner = f"dimension {i} of {what}"
            try:
                n = coerce(_DIMENSION, node, owner, self.dt)
            except SnnError as err:
                self.errors.append(err)
                return None
            if n < 0:
                self.diag.error(node.loc, f"{owner} is negative ({n}); sizes must be at least 1")
                return None
            shape.append(n)
        if 0 in shape:
            self.diag.error(loc, f"{what} has an empty dimension; sizes must be at least 1")
            return None
        size = 1
        for n in shape:
            size *= n
        if size > MAX_ELEMENTS:
            self.diag.error(loc, f"{what} has {size} elements; at most {MAX_ELEMENTS} are supported")
            return None
        return tuple(shape)

    def _encoding(self, node: ast.Value) -> ir.Encoding | None:
        if isinstance(node, ast.Name):
            name, args, loc = node.id, (), node.loc
        elif isinstance(node, ast.Call):
            name, args, loc = node.name, node.args, node.name_loc
        else:
            self.diag.error(node.loc, "an input's encoding is rate, latency, delta or direct, "
                                      "e.g. rate(gain = 1.0)")
            return None
        entry = catalog.ENCODINGS.get(name)
        if entry is None:
            self.diag.error(loc, f"unknown encoding '{name}'",
                            did_you_mean(name, catalog.ENCODINGS)
                            or "encodings: " + options_text(catalog.ENCODINGS))
            return None
        cls, specs = entry
        values = bind_args(specs, args, f"encoding {name}", node.loc, self.errors, self.dt)
        return None if failed(values) else cls(**values)

    # ------------------------------------------------------------------ layers
    def _layers(self, decls: list[ast.LayerDecl], inputs: dict[str, ir.Input]) -> list[ir.Layer]:
        self.layer_decls = {d.name: d for d in reversed(decls)}   # the first of a name
        first_neurons = set(self.templates) | self.defined_neurons
        pending: dict[str, tuple[ast.LayerDecl, dict, ir.Neuron | None]] = {}
        for d in decls:
            if d.name in self.names:
                self.diag.error(d.name_loc, f"duplicate name '{d.name}'",
                                f"first declared at {self.names[d.name]}")
                continue
            self._keyword_name(d.name, d.name_loc, "a layer")
            self.names[d.name] = d.name_loc
            entry = catalog.LAYER_OPS.get(d.op.name)
            if entry is None:
                self.diag.error(d.op.name_loc, f"unknown layer operator '{d.op.name}'",
                                did_you_mean(d.op.name, catalog.LAYER_OPS)
                                or "operators: " + ", ".join(catalog.LAYER_OPS))
                if d.neuron is not None:
                    self._neuron(d.neuron, first_neurons)   # its own errors still count
                continue
            specs, n_pos = entry
            values = bind_args(specs, d.op.args, d.op.name, d.op.loc, self.errors, self.dt,
                               positional=n_pos)
            neuron = None
            if d.op.name == "flatten":
                if d.neuron is not None:
                    self.diag.error(d.neuron.loc, "flatten has no neurons; remove the `with` part")
            elif d.neuron is None:
                self.diag.error(d.name_loc, f"layer '{d.name}' needs a neuron",
                                "add e.g. `with LIF(tau_mem = 10 ms)` after the operator")
                values["__failed__"] = True
            else:
                neuron = self._neuron(d.neuron, first_neurons)
                if neuron is None:
                    values["__failed__"] = True
            if values.get("surrogate") is not None:
                try:
                    values["surrogate"] = self._surrogate(values["surrogate"])
                except (SnnError, SnnErrors) as err:
                    self.diag.add(err)
                    values["__failed__"] = True
            pending[d.name] = (d, values, neuron)
        return self._resolve(pending, inputs)

    def _source_name(self, d: ast.LayerDecl, values: dict) -> str | None:
        node = values.get("source")
        if not isinstance(node, ast.Name):
            self.diag.error(node.loc if isinstance(node, ast.Node) else d.op.loc,
                            f"the first argument of {d.op.name} is the name of an input or layer")
            return None
        return node.id

    def _resolve(self, pending, inputs) -> list[ir.Layer]:
        # sources, in declaration order
        sources: dict[str, str] = {}
        for name, (d, values, _) in pending.items():
            if values.get("source") is None or values["source"] is ir_FAILED:
                continue
            src = self._source_name(d, values)
            if src is None:
                continue
            if src not in self.names:
                self.diag.error(values["source"].loc, f"unknown input or layer '{src}'",
                                did_you_mean(src, self.names))
                continue
            if src not in pending and src not in inputs:
                continue  # declared, but failed its own checks
            sources[name] = src
        order = self._topological(pending, sources)
        layers: list[ir.Layer] = []
        shapes = {n: i.shape for n, i in inputs.items()}
        for name in order:
            d, values, neuron = pending[name]
            src = sources.get(name)
            if src is None or src not in shapes or values.get("__failed__") or failed(values):
                continue
            layer = self._make_layer(d, values, neuron, src, shapes[src])
            if layer is not None:
                layers.append(layer)
                shapes[name] = layer.shape
        return layers

    def _topological(self, pending, sources) -> list[str]:
        order: list[str] = []
        state: dict[str, int] = {}  # 1 visiting, 2 done
        for start in pending:
            if state.get(start):
                continue
            path = [start]
            while path:
                node = path[-1]
                if state.get(node) is None:
                    state[node] = 1
                src = sources.get(node)
                if src in pending and state.get(src) is None:
                    path.append(src)
                    continue
                if src in pending and state.get(src) == 1:
                    cycle = path[path.index(src):]
                    # data flows from a layer's source to the layer: cycle[-1] -> ... -> cycle[0]
                    names = " -> ".join(f"'{n}'" for n in reversed(cycle)) + f" -> '{cycle[-1]}'"
                    if len(cycle) == 1:
                        msg = f"layer '{node}' takes its own output as input"
                    else:
                        msg = f"layers {names} form a cycle"
                    self.diag.error(pending[node][1]["source"].loc, msg,
                                    "feedback is only allowed as the self-connection of a "
                                    "`recurrent` layer")
                    sources.pop(node, None)
                state[node] = 2
                order.append(node)
                path.pop()
        return order

    def _make_layer(self, d: ast.LayerDecl, v: dict, neuron, src: str, in_shape) -> ir.Layer | None:
        op = d.op.name
        loc = d.loc
        where = d.op.args[0].loc if d.op.args else d.op.loc
        common = dict(name=d.name, source=src, in_shape=tuple(in_shape), loc=loc)
        shape_text = "[" + ", ".join(map(str, in_shape)) + "]"
        if op in ("dense", "recurrent"):
            if len(in_shape) != 1:
                self.diag.error(where, f"{op} layer '{d.name}' needs a 1-D input [n], but '{src}' has "
                                       f"shape {shape_text}",
                                f"insert `layer {src}_flat = flatten({src})`")
                return None
            cls = ir.Dense if op == "dense" else ir.Recurrent
            layer = cls(units=v["units"], neuron=neuron, bias=v["bias"], delay=v["delay"],
                        surrogate=v["surrogate"], lanes=v["lanes"], **common)
            if v["lanes"] is not None and v["lanes"] > v["units"]:
                arg = next((a for a in d.op.args if a.name == "lanes"), d.op)
                self.diag.warn(arg.loc, f"layer '{d.name}' has {v['units']} neuron"
                                        f"{'s' if v['units'] != 1 else ''} and lanes = "
                                        f"{v['lanes']}: {v['lanes'] - v['units']} lanes never "
                                        "hold a neuron", f"lanes = {v['units']} updates them all "
                                                         "in one cycle as well")
        elif op in ("conv2d", "sumpool", "avgpool"):
            if len(in_shape) != 3:
                self.diag.error(where, f"{op} layer '{d.name}' needs an input of shape "
                                       f"[channels, height, width], but '{src}' has shape {shape_text}")
                return None
            kernel = v["kernel"]
            if op == "conv2d":
                pad = v["padding"]
                stride = v["stride"]
                padded = (in_shape[1] + 2 * pad[0], in_shape[2] + 2 * pad[1])
            else:
                pad = (0, 0)
                stride = v["stride"] or kernel
                padded = (in_shape[1], in_shape[2])
            if kernel[0] > padded[0] or kernel[1] > padded[1]:
                kernel_pos = 2 if op == "conv2d" else 1
                kernel_arg = next((a for i, a in enumerate(d.op.args) if a.name == "kernel"
                                   or (a.name is None and i == kernel_pos)), d.op)
                self.diag.error(kernel_arg.loc, f"{op} layer '{d.name}': kernel {kernel[0]}x{kernel[1]} "
                                                f"is larger than its (padded) input "
                                                f"{padded[0]}x{padded[1]} ('{src}' has shape {shape_text})")
                return None
            if op == "conv2d":
                layer = ir.Conv2d(channels=v["channels"], kernel=kernel, stride=stride, padding=pad,
                                  neuron=neuron, bias=v["bias"], delay=v["delay"],
                                  surrogate=v["surrogate"], **common)
            else:
                layer = ir.Pool(mode=op[:3], kernel=kernel, stride=stride, neuron=neuron,
                                delay=v["delay"], surrogate=v["surrogate"], **common)
        elif op == "flatten":
            layer = ir.Flatten(**common)
        else:
            raise ValueError(f"layer operator {op!r} has no builder")
        size = 1
        for dim in layer.shape:
            size *= dim
        if size > MAX_ELEMENTS or ir.parameter_count(layer) > MAX_ELEMENTS * 16:
            self.diag.error(d.op.loc, f"layer '{d.name}' is too large ({size} neurons, "
                                      f"{ir.parameter_count(layer)} parameters)")
            return None
        return layer

    # ------------------------------------------------------------------ outputs
    def _readout_not_a_word(self, readout: ast.Value) -> None:
        """The error for a readout written as something else than one of the readout words."""
        words = options_text(catalog.READOUTS)
        if isinstance(readout, ast.Call) and readout.name in catalog.READOUTS:
            self.diag.error(readout.loc, f"the readout '{readout.name}' takes no arguments",
                            f"write `{readout.name}`")
        elif isinstance(readout, ast.StringLit) and readout.value in catalog.READOUTS:
            self.diag.error(readout.loc, "a readout is a word, not a string",
                            f"write `{readout.value}` without quotes")
        else:
            self.diag.error(readout.loc, f"a readout is one of the words {words}")

    def _outputs(self, decls, inputs, layers) -> list[ir.Output]:
        by_name = {l.name: l for l in layers}
        outputs: list[ir.Output] = []
        seen: dict[str, Loc] = {}
        if not decls:
            anchor = next((s.loc for s in self.module.statements if isinstance(s, ast.ModelDecl)),
                          Loc(self.module.source, 1, 1))
            self.diag.error(anchor, "the model has no `output`",
                            "add e.g. `output LAYER = count`")
        for d in decls:
            readout = d.readout
            word = readout.id if isinstance(readout, ast.Name) else None
            if word is None:
                self._readout_not_a_word(readout)
                continue
            if word not in catalog.READOUTS:
                self.diag.error(readout.loc, f"unknown readout '{word}': expected "
                                             f"{options_text(catalog.READOUTS)}",
                                did_you_mean(word, catalog.READOUTS))
                continue
            if d.source in seen:
                self.diag.error(d.source_loc, f"layer '{d.source}' is already an output",
                                f"first at {seen[d.source]}")
                continue
            seen[d.source] = d.source_loc
            if d.source in inputs:
                self.diag.error(d.source_loc, f"output '{d.source}' is an input; outputs read a layer")
                continue
            if d.source not in self.names:
                self.diag.error(d.source_loc, f"unknown layer '{d.source}'",
                                did_you_mean(d.source, [n for n in self.names if n not in inputs]))
                continue
            layer = by_name.get(d.source)
            if layer is None:
                continue  # it had errors
            if isinstance(layer, ir.Flatten):
                self.diag.error(d.source_loc, f"output '{d.source}' is a flatten layer, which has no "
                                              "neurons; read the layer before it")
                continue
            outputs.append(ir.Output(d.source, word, d.loc))
        return outputs

    # ------------------------------------------------------------------ train and hardware
    def _train(self, stmts) -> ir.TrainSpec | None:
        block = self._blocks(stmts, "train")
        if block is None:
            return None
        v = self._settings(block, catalog.TRAIN_SETTINGS)
        if v["dataset"] is not None:
            from snnc.datasets import name_error

            bad = name_error(v["dataset"])
            if bad is not None:         # said by check, not only when train loads the data
                where = next(st.value.loc for st in block.settings if st.key == "dataset")
                self.diag.error(where, bad.message, bad.hint)
        return ir.TrainSpec(surrogate=v["surrogate"] or catalog.DEFAULT_SURROGATE, loss=v["loss"],
                            optimizer=v["optimizer"], lr=v["lr"], epochs=v["epochs"],
                            batch_size=v["batch_size"], dataset=v["dataset"], seed=v["seed"],
                            spike_reg=v["spike_reg"], tbptt=v["tbptt"], schedule=v["schedule"])

    def _hardware(self, stmts) -> ir.HardwareSpec | None:
        block = self._blocks(stmts, "hardware")
        if block is None:
            return None
        v = self._settings(block, catalog.HARDWARE_SETTINGS)
        state = v["state"] or DEFAULT_STATE
        return ir.HardwareSpec(weights=v["weights"] or DEFAULT_WEIGHTS,
                               membrane=v["membrane"] or state, current=v["current"] or state,
                               adaptation=v["adaptation"] or state,
                               inputs=v["inputs"] or DEFAULT_INPUTS, lanes=v["lanes"] or 4,
                               clock=v["clock"] or 50e6, device=v["device"] or "ice40-up5k",
                               decay=v["decay"] or "multiply", leak_digits=v["leak_digits"])


def _reads_input(t: NeuronTemplate) -> bool:
    """Whether a user neuron's update, spike condition, height or on-spike statements read
    ``input`` (the layer's synaptic input)."""
    from snnc import expr as E

    exprs = [a.value for a in t.update + t.on_spike] + [t.spike] + \
        ([t.emit] if t.emit is not None else [])
    return any(r.kind == "input" for e in exprs for r in E.refs(e))


def _file_key(path: str) -> str:
    """One name per file, however a `use` reaches it (relative parts, symbolic links)."""
    return os.path.realpath(path)


def _located(values: dict, use: ast.NeuronUse) -> dict:
    """A built-in neuron's real parameters as :class:`ir.Located` values: where each was written,
    or the neuron's name and arguments for a default, for the quantizer's errors about them."""
    written = {a.name: a.value.loc for a in use.args if a.name is not None}
    return {k: ir.Located(v, written.get(k, use.loc)) if type(v) is float else v
            for k, v in values.items()}


DEFAULT_WEIGHTS = Fixed(8, 6)
DEFAULT_STATE = Fixed(16, 8)
DEFAULT_INPUTS = Fixed(12, 8)

from snnc.values import _FAILED as ir_FAILED  # noqa: E402  (the marker bind_args leaves on errors)
