"""ONNX export of a fitted VAETransformer: the encoder and the decoder mean.

The graphs are written op by op from the fitted weights (Gemm and the
activation after each layer), with the standardisation folded in, so the
exported models compute what ``transform`` and ``inverse_transform`` compute.
Nothing here needs torch's exporter. Each likelihood writes its own part
(what the encoder reads, the decoder mean) through ``onnx_encoder_input``
and ``onnx_mean``; see :mod:`skvae._likelihoods`.

The same node writers serve :func:`export_onnx` (a standalone model) and the
converter that :func:`register_onnx_converters` gives skl2onnx, so that
``skl2onnx.to_onnx`` handles a ``VAETransformer`` alone or in a ``Pipeline``.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._networks import ACTIVATIONS

# Opset 13 has every operator used (Gemm, Erf, Softplus, Slice with inputs).
DEFAULT_OPSET = 13
# ONNX Runtime's CPU kernels of these take float32 only.
_FLOAT32_ONLY_OPS = {"Erf", "Elu", "Softplus"}

_METHODS = ("transform", "inverse_transform")


class OnnxGraph:
    """Writes nodes and constants into an ONNX graph under construction.

    ``add_node(op_type, inputs, outputs, attributes)`` and
    ``add_constant(name, array)`` do the writing; ``unique_name(hint)`` makes
    names. Constants are stored in ``dtype`` unless they are integer arrays
    (the index inputs of ``Slice``), which keep their own type.
    """

    def __init__(self, dtype, add_node, add_constant, unique_name):
        self.dtype = np.dtype(dtype)
        self._add_node = add_node
        self._add_constant = add_constant
        self._unique_name = unique_name

    def constant(self, values, hint="constant"):
        array = np.asarray(values)
        if not np.issubdtype(array.dtype, np.integer):
            array = array.astype(self.dtype)
        name = self._unique_name(hint)
        self._add_constant(name, array)
        return name

    def node(self, op_type, *inputs, **attributes):
        """Add a one-output node; returns the output's name."""
        output = self._unique_name(op_type.lower())
        self._add_node(op_type, list(inputs), [output], attributes)
        return output

    def unary(self, op_type, x):
        """An element-wise op; in a float64 graph, ops that ONNX Runtime has
        in float32 only are computed in float32 (about 1e-7 relative error)."""
        if self.dtype == np.float32 or op_type not in _FLOAT32_ONLY_OPS:
            return self.node(op_type, x)
        single = self.node("Cast", x, to=1)  # TensorProto.FLOAT
        return self.node("Cast", self.node(op_type, single), to=11)  # DOUBLE


def _weights(layer):
    return (
        layer.weight.detach().cpu().double().numpy(),
        layer.bias.detach().cpu().double().numpy(),
    )


def _mlp(graph, layers, activation, x):
    """Linear layers, each followed by the activation."""
    for layer in layers:
        weight, bias = _weights(layer)
        x = graph.node(
            "Gemm", x, graph.constant(weight), graph.constant(bias), transB=1
        )
        if activation == "gelu":  # the exact (erf) form, torch's default
            half = graph.node("Mul", x, graph.constant(0.5))
            scaled = graph.node("Mul", x, graph.constant(1.0 / np.sqrt(2.0)))
            erf = graph.unary("Erf", scaled)
            one_plus = graph.node("Add", erf, graph.constant(1.0))
            x = graph.node("Mul", half, one_plus)
        elif activation != "identity":
            # The ONNX operator of each torch activation left (ReLU, Tanh,
            # Softplus, ELU, Sigmoid) is its class name, capitalised.
            x = graph.unary(ACTIVATIONS[activation].__name__.capitalize(), x)
    return x


def _linear_layers(network):
    return [layer for layer in network.modules() if hasattr(layer, "in_features")]


def _standardizes(estimator):
    return np.any(estimator.input_mean_) or np.any(estimator.input_scale_ != 1)


def encoder_nodes(graph, estimator, x):
    """``transform``: standardise, the likelihood's encoder input, the encoder
    body, the mean head."""
    module = estimator.module_
    if _standardizes(estimator):
        x = graph.node("Sub", x, graph.constant(estimator.input_mean_, "input_mean"))
        x = graph.node("Div", x, graph.constant(estimator.input_scale_, "input_scale"))
    x = module.likelihood.onnx_encoder_input(graph, x)
    body = _linear_layers(module.encoder.body)
    hidden = _mlp(graph, body, estimator.activation, x)
    return _mlp(graph, [module.encoder.mean_head], "identity", hidden)


def decoder_mean_nodes(graph, estimator, z):
    """``inverse_transform``: the decoder, the likelihood's mean, back to the
    data's units."""
    module = estimator.module_
    hidden = _mlp(graph, _linear_layers(module.decoder.body), estimator.activation, z)
    output = _mlp(graph, [module.decoder.output_head], "identity", hidden)
    x = module.likelihood.onnx_mean(graph, output)
    if _standardizes(estimator):
        x = graph.node("Mul", x, graph.constant(estimator.input_scale_, "input_scale"))
        x = graph.node("Add", x, graph.constant(estimator.input_mean_, "input_mean"))
    return x


def export_onnx(
    estimator,
    path=None,
    *,
    method="transform",
    dtype=np.float32,
    target_opset=DEFAULT_OPSET,
):
    """Export what a fitted VAETransformer's ``transform`` or
    ``inverse_transform`` computes as an ONNX model.

    The graph holds the fitted standardisation, the encoder (or decoder) and
    the likelihood's own step (e.g. ``log1p`` of counts before the encoder,
    a sigmoid after the decoder), written as plain ONNX operators from the
    fitted weights. ONNX Runtime reproduces :meth:`VAETransformer.transform`
    to about 1e-6 in float32.

    Parameters
    ----------
    estimator : VAETransformer
        A fitted estimator (for a :class:`VAEOutlierDetector`, pass its
        ``vae_``).

    path : str or path-like, default=None
        Where to write the model; None only returns it.

    method : {'transform', 'inverse_transform'}, default='transform'
        'transform': input ``X`` of shape (n_samples, ``n_features_in_``),
        output ``Z``, the posterior means. 'inverse_transform': input ``Z``
        of shape (n_samples, n_components), output ``X``, the decoder means
        in the units of the training data.

    dtype : {numpy.float32, numpy.float64}, default=numpy.float32
        Type of the input, the output and the weights.

    target_opset : int, default=13
        ONNX operator set of the model.

    Returns
    -------
    model : onnx.ModelProto
        The model; needs the ``onnx`` package (``pip install skvae[onnx]``).

    Examples
    --------
    >>> import numpy as np
    >>> from skvae import VAETransformer, export_onnx
    >>> X = np.random.RandomState(0).normal(size=(100, 4))
    >>> vae = VAETransformer(hidden_layer_sizes=(8,), max_iter=3,
    ...                      random_state=0).fit(X)
    >>> model = export_onnx(vae)
    >>> import onnxruntime
    >>> session = onnxruntime.InferenceSession(model.SerializeToString())
    >>> Z = session.run(None, {"X": X.astype(np.float32)})[0]
    >>> bool(np.allclose(Z, vae.transform(X), atol=1e-5))
    True
    """
    try:
        import onnx
        from onnx import helper, numpy_helper
    except ImportError as error:
        raise ImportError(
            "export_onnx needs the onnx package: pip install 'skvae[onnx]'."
        ) from error
    check_is_fitted(estimator, "module_")
    if estimator.module_.missing_indicator:
        raise NotImplementedError(
            "export_onnx does not export models fitted on data with missing "
            "values (their encoder also reads a missingness mask)."
        )
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}; got {method!r}.")
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64; got {dtype}.")
    nodes, constants, counts = [], [], {}

    def unique_name(hint):
        counts[hint] = counts.get(hint, 0) + 1
        return f"{hint}_{counts[hint]}"

    def add_node(op_type, inputs, outputs, attributes):
        nodes.append(helper.make_node(op_type, inputs, outputs, **attributes))

    def add_constant(name, array):
        constants.append(numpy_helper.from_array(array, name))

    graph = OnnxGraph(dtype, add_node, add_constant, unique_name)
    n_components = estimator.module_.n_components
    if method == "transform":
        names, widths = ("X", "Z"), (estimator.n_features_in_, n_components)
        output = encoder_nodes(graph, estimator, names[0])
    else:
        names, widths = ("Z", "X"), (n_components, estimator.n_features_in_)
        output = decoder_mean_nodes(graph, estimator, names[0])
    add_node("Identity", [output], [names[1]], {})
    element_type = helper.np_dtype_to_tensor_dtype(dtype)
    inputs = [helper.make_tensor_value_info(names[0], element_type, ["N", widths[0]])]
    outputs = [helper.make_tensor_value_info(names[1], element_type, ["N", widths[1]])]
    opsets = [helper.make_opsetid("", target_opset)]
    model = helper.make_model(
        helper.make_graph(nodes, f"skvae_{method}", inputs, outputs, constants),
        opset_imports=opsets,
        producer_name="skvae",
        # The oldest format that holds this opset, not the installed onnx's
        # newest: a runtime older than onnx refuses a newer IR version.
        ir_version=helper.find_min_ir_version_for(opsets),
    )
    onnx.checker.check_model(model)
    if path is not None:
        onnx.save(model, path)
    return model


def register_onnx_converters():
    """Teach skl2onnx to convert a fitted VAETransformer (its ``transform``).

    After this call, :func:`skl2onnx.to_onnx` converts a ``VAETransformer``
    alone or as a step of a :class:`~sklearn.pipeline.Pipeline` (for
    example after a ``StandardScaler``). Calling it again does nothing more.
    Needs ``skl2onnx`` (``pip install skvae[onnx]``).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skvae import VAETransformer, register_onnx_converters
    >>> X = np.random.RandomState(0).normal(size=(100, 4)).astype(np.float32)
    >>> pipeline = make_pipeline(StandardScaler(), VAETransformer(
    ...     hidden_layer_sizes=(8,), max_iter=3, random_state=0)).fit(X)
    >>> register_onnx_converters()
    >>> from skl2onnx import to_onnx
    >>> model = to_onnx(pipeline, X[:1])
    """
    try:
        from skl2onnx import update_registered_converter
    except ImportError as error:
        raise ImportError(
            "register_onnx_converters needs skl2onnx: pip install 'skvae[onnx]'."
        ) from error
    from ._estimator import VAETransformer

    update_registered_converter(
        VAETransformer,
        "SkvaeVAETransformer",
        _skl2onnx_shape,
        _skl2onnx_convert,
    )


def _skl2onnx_shape(operator):
    input_type = operator.inputs[0].type
    n_rows = input_type.shape[0] if input_type.shape else None
    n_components = operator.raw_operator.module_.n_components
    operator.outputs[0].type = input_type.__class__([n_rows, n_components])


def _skl2onnx_convert(scope, operator, container):
    from onnx import helper
    from skl2onnx.common.data_types import DoubleTensorType

    double = isinstance(operator.inputs[0].type, DoubleTensorType)
    dtype = np.float64 if double else np.float32

    def add_node(op_type, inputs, outputs, attributes):
        name = scope.get_unique_operator_name(f"Skvae{op_type}")
        container.add_node(op_type, inputs, outputs, name=name, **attributes)

    def add_constant(name, array):
        element_type = helper.np_dtype_to_tensor_dtype(array.dtype)
        container.add_initializer(
            name, element_type, list(array.shape), array.ravel().tolist()
        )

    graph = OnnxGraph(dtype, add_node, add_constant, scope.get_unique_variable_name)
    z = encoder_nodes(graph, operator.raw_operator, operator.inputs[0].full_name)
    add_node("Identity", [z], [operator.outputs[0].full_name], {})
