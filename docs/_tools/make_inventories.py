"""Write the intersphinx inventories of scikit-learn, NumPy, PyTorch and pandas.

The documentation is built without network access, so the ``objects.inv``
files that these projects publish cannot be downloaded at build time. This
script writes stand-ins for them: it imports the installed packages, lists
their public API (modules, classes, functions, methods, properties) by
introspection, and writes one Sphinx inventory (format version 2) per project
to ``docs/_inventories/``, with the address at which that project's own
documentation puts each object. ``docs/conf.py`` points ``intersphinx_mapping``
at these files.

Run it from the repository root after installing newer releases of these
packages, and commit the ``.inv`` files it writes::

    python docs/_tools/make_inventories.py

Each project lays out its pages in its own way: the ``*_entries`` functions
below hold one rule per project (scikit-learn: one page per class or function
under modules/generated/; NumPy: reference/generated/; PyTorch: generated/;
pandas: reference/api/) and the exceptions to it that they know of (PyTorch's
topic pages such as tensor_attributes.html, numpy.random's pages). An object
that a project documents somewhere else gets a link to a page that does not
exist, so check a new reference's link in the built pages.
"""

import argparse
import importlib
import inspect
import sys
import warnings
import zlib
from pathlib import Path

OUTPUT = Path(__file__).resolve().parents[1] / "_inventories"

# Entries are (name, role, uri) with the uri relative to the project's base URL.


# --------------------------------------------------------------------------
# Introspection
# --------------------------------------------------------------------------


def _import(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return importlib.import_module(name)


def _root(name):
    return name.split(".", 1)[0]


def _module_of(obj):
    module = getattr(obj, "__module__", None)
    return module if isinstance(module, str) else ""


def _defined_here(obj, module_name, lenient):
    """Whether a module defines ``obj`` rather than imports it.

    Defined in the module or one of its submodules; ``lenient`` also accepts
    the package's private modules and its C functions, for packages (PyTorch)
    whose public modules re-export what private extension modules define.
    """
    where = _module_of(obj)
    if where == module_name or where.startswith(module_name + "."):
        return True
    if not lenient or _root(where) != _root(module_name):
        return False
    private = any(part.startswith("_") for part in where.split("."))
    return private or inspect.isbuiltin(obj)


def public_objects(module_name, lenient=False):
    """Yield (public name, object, kind) for what a module exports.

    The names are those in ``__all__``; a module without ``__all__`` exports
    its names that do not start with an underscore and that it defines (see
    :func:`_defined_here`). Submodules are left out.
    """
    module = _import(module_name)
    names = getattr(module, "__all__", None)
    explicit = names is not None
    if not explicit:
        names = dir(module)
    for name in sorted(set(names)):
        if name.startswith("_") or not hasattr(module, name):
            continue
        obj = getattr(module, name)
        if inspect.ismodule(obj):
            continue
        if not explicit and not _defined_here(obj, module_name, lenient):
            continue
        if inspect.isclass(obj):
            kind = "exception" if issubclass(obj, BaseException) else "class"
        elif callable(obj):
            kind = "function"
        else:
            kind = "data"
        yield f"{module_name}.{name}", obj, kind


def class_members(cls, inherited=True):
    """Yield (member name, kind) for the public methods and properties of a class.

    With ``inherited``, members inherited from other classes of the package
    count, as autodoc's ``:inherited-members:`` shows them; without, only
    those of the class itself and of private bases (such as torch._C's). The
    members of :class:`object` and of other packages never count.
    """
    root = _root(_module_of(cls))
    for name in sorted(dir(cls)):
        if name.startswith("_"):
            continue
        owner = next((k for k in cls.__mro__ if name in vars(k)), None)
        if owner is None or owner is object or _root(_module_of(owner)) != root:
            continue
        private = any(p.startswith("_") for p in _module_of(owner).split("."))
        if not inherited and owner is not cls and not private:
            continue
        raw = vars(owner)[name]
        if inspect.isclass(raw):
            continue
        if isinstance(raw, property) or type(raw).__name__ == "cached_property":
            yield name, "property"
        elif isinstance(raw, (staticmethod, classmethod)) or inspect.isroutine(raw):
            yield name, "method"
        elif inspect.isdatadescriptor(raw):
            yield name, "attribute"
        elif hasattr(type(raw), "__get__") and callable(raw):
            # Descriptors that hand out a method, such as scikit-learn's
            # ``available_if`` (Pipeline.predict) or pandas' accessors.
            yield name, "method"


def walk_packages(package, skip=("tests", "externals", "conftest")):
    """The public modules of a package: no part of the name starts with '_'."""
    import pkgutil

    module = _import(package)
    found = [package]
    for info in pkgutil.walk_packages(module.__path__, package + ".", onerror=None):
        parts = info.name.split(".")
        if any(p.startswith("_") or p in skip for p in parts):
            continue
        try:
            _import(info.name)
        except Exception:  # optional dependency missing: not documented here
            continue
        found.append(info.name)
    return found


def entries_for(
    modules,
    object_uri,
    member_uri,
    module_uri,
    aliases=None,
    inherited=True,
    lenient=False,
):
    """Inventory entries for the objects of ``modules``.

    ``object_uri(name, obj, kind)`` gives the address of a module-level object
    (None: leave it out); ``member_uri(class_name, member, kind, class_uri)``
    that of a class member; ``module_uri(name)`` that of a module.
    ``aliases(name, obj, kind)``, where given, lists other names under which
    the project documents the object (the same address). ``inherited``: see
    :func:`class_members`; ``lenient``: see :func:`_defined_here`.
    """
    entries = set()
    for module_name in modules:
        uri = module_uri(module_name)
        if uri:
            entries.add((module_name, "py:module", uri))
        for name, obj, kind in public_objects(module_name, lenient):
            uri = object_uri(name, obj, kind)
            if uri is None:
                continue
            names = [name, *(aliases(name, obj, kind) if aliases else ())]
            for each in names:
                entries.add((each, f"py:{kind}", uri))
            if kind not in ("class", "exception"):
                continue
            for member, member_kind in class_members(obj, inherited):
                for each in names:
                    full = f"{each}.{member}"
                    member_at = member_uri(names[-1], full, member_kind, uri)
                    if member_at:
                        entries.add((full, f"py:{member_kind}", member_at))
    return entries


def _on_class_page(class_name, full, kind, class_uri):
    return f"{class_uri.split('#')[0]}#{full}"


# --------------------------------------------------------------------------
# scikit-learn: one page per class or function, members on the class page.
# modules/generated/sklearn.decomposition.PCA.html#sklearn.decomposition.PCA
# --------------------------------------------------------------------------


def sklearn_entries():
    def object_uri(name, obj, kind):
        if kind == "data":
            return None
        return f"modules/generated/{name}.html#{name}"

    def module_uri(name):
        # api/sklearn.feature_extraction.html#module-sklearn.feature_extraction.text
        page = ".".join(name.split(".")[:2])
        return f"api/{page}.html#module-{name}"

    modules = [m for m in walk_packages("sklearn") if m != "sklearn.experimental"]
    modules = [m for m in modules if not m.startswith("sklearn.experimental.")]
    return entries_for(modules, object_uri, _on_class_page, module_uri)


# --------------------------------------------------------------------------
# NumPy: one page per function, class, method and attribute under
# reference/generated/, scalar types and constants on pages of their own,
# numpy.random under reference/random/.
# --------------------------------------------------------------------------

NUMPY_MODULE_PAGES = {
    "numpy": "reference/index.html",
    "numpy.linalg": "reference/routines.linalg.html",
    "numpy.fft": "reference/routines.fft.html",
    "numpy.ma": "reference/maskedarray.generic.html",
    "numpy.testing": "reference/routines.testing.html",
    "numpy.exceptions": "reference/routines.exceptions.html",
    "numpy.random": "reference/random/index.html",
}

# numpy.random documents these on topic pages rather than on pages of their own.
NUMPY_RANDOM_PAGES = {
    "default_rng": "generator.html",
    "Generator": "generator.html",
    "RandomState": "legacy.html",
    "MT19937": "bit_generators/mt19937.html",
    "PCG64": "bit_generators/pcg64.html",
    "PCG64DXSM": "bit_generators/pcg64dxsm.html",
    "Philox": "bit_generators/philox.html",
    "SFC64": "bit_generators/sfc64.html",
}


def numpy_entries():
    import numpy

    def object_uri(name, obj, kind):
        short = name.rsplit(".", 1)[1]
        if name.startswith("numpy.random."):
            page = NUMPY_RANDOM_PAGES.get(short)
            if page:
                return f"reference/random/{page}#{name}"
            if short in ("SeedSequence", "BitGenerator"):
                return f"reference/random/bit_generators/generated/{name}.html#{name}"
            return f"reference/random/generated/{name}.html#{name}"
        if kind == "data":
            if name.count(".") == 1 and isinstance(obj, (float, type(None))):
                return f"reference/constants.html#{name}"
            return None
        if inspect.isclass(obj) and issubclass(obj, numpy.generic):
            return f"reference/arrays.scalars.html#{name}"
        return f"reference/generated/{name}.html#{name}"

    def member_uri(class_name, full, kind, class_uri):
        if "/generated/" in class_uri:
            return f"{class_uri.split('/generated/')[0]}/generated/{full}.html#{full}"
        if class_name in ("numpy.random.Generator", "numpy.random.RandomState"):
            return f"reference/random/generated/{full}.html#{full}"
        return None  # scalar types, bit generators: no pages per member

    def module_uri(name):
        page = NUMPY_MODULE_PAGES.get(name)
        return f"{page}#module-{name}" if page else None

    return entries_for(list(NUMPY_MODULE_PAGES), object_uri, member_uri, module_uri)


# --------------------------------------------------------------------------
# PyTorch: one page per object under generated/, members on the class page,
# except the objects and modules that it documents on a topic page.
# --------------------------------------------------------------------------

TORCH_MODULE_PAGES = {
    "torch": "torch.html",
    "torch.nn": "nn.html",
    "torch.nn.functional": "nn.functional.html",
    "torch.nn.init": "nn.init.html",
    "torch.optim": "optim.html",
    "torch.optim.lr_scheduler": None,
    "torch.linalg": "linalg.html",
    "torch.fft": "fft.html",
    "torch.cuda": "cuda.html",
    "torch.autograd": "autograd.html",
    "torch.utils.data": "data.html",
    "torch.distributions": "distributions.html",
}

# Modules whose objects all live on the module's page, not under generated/.
TORCH_ONE_PAGE_MODULES = ("torch.nn.init", "torch.utils.data", "torch.distributions")

# Objects documented on a topic page.
TORCH_TOPIC_PAGES = {
    "torch.Tensor": "tensors.html",
    "torch.dtype": "tensor_attributes.html",
    "torch.device": "tensor_attributes.html",
    "torch.layout": "tensor_attributes.html",
    "torch.memory_format": "tensor_attributes.html",
    "torch.Size": "size.html",
    "torch.finfo": "type_info.html",
    "torch.iinfo": "type_info.html",
    "torch.autocast": "amp.html",
}


def torch_entries():
    def object_uri(name, obj, kind):
        if kind == "data":
            return None
        short = name.rsplit(".", 1)[1]
        if short != "Tensor" and short.endswith(("Tensor", "Storage")):
            return None  # legacy tensor and storage types, not documented
        if name in TORCH_TOPIC_PAGES:
            return f"{TORCH_TOPIC_PAGES[name]}#{name}"
        module = name.rsplit(".", 1)[0]
        if module in TORCH_ONE_PAGE_MODULES:
            # torch.distributions documents each class under the module that
            # defines it: distributions.html#torch.distributions.normal.Normal
            anchor = name
            if inspect.isclass(obj) and module == "torch.distributions":
                anchor = f"{_module_of(obj)}.{obj.__qualname__}"
            return f"{TORCH_MODULE_PAGES[module]}#{anchor}"
        return f"generated/{name}.html#{name}"

    def member_uri(class_name, full, kind, class_uri):
        if class_name == "torch.Tensor":
            return f"generated/{full}.html#{full}"
        if class_name.startswith("torch.distributions."):
            # The alias torch.distributions.Normal points at the defining name.
            anchor = class_uri.split("#")[1] + "." + full.rsplit(".", 1)[1]
            return f"{class_uri.split('#')[0]}#{anchor}"
        return _on_class_page(class_name, full, kind, class_uri)

    def module_uri(name):
        page = TORCH_MODULE_PAGES.get(name)
        return f"{page}#module-{name}" if page else None

    def aliases(name, obj, kind):
        if name.startswith("torch.distributions.") and inspect.isclass(obj):
            return [f"{_module_of(obj)}.{obj.__qualname__}"]
        return []

    # PyTorch's class pages show the members that a class defines, not those
    # it inherits (torch.nn.Linear.html has forward but not parameters).
    return entries_for(
        list(TORCH_MODULE_PAGES),
        object_uri,
        member_uri,
        module_uri,
        aliases,
        inherited=False,
        lenient=True,
    )


# --------------------------------------------------------------------------
# pandas: one page per object and per method or attribute under reference/api/.
# --------------------------------------------------------------------------

PANDAS_MODULES = [
    "pandas",
    "pandas.api.types",
    "pandas.api.extensions",
    "pandas.api.indexers",
    "pandas.errors",
    "pandas.plotting",
    "pandas.testing",
    "pandas.tseries.offsets",
]


def pandas_entries():
    def object_uri(name, obj, kind):
        if kind == "data":
            return None
        return f"reference/api/{name}.html#{name}"

    def member_uri(class_name, full, kind, class_uri):
        return f"reference/api/{full}.html#{full}"

    def module_uri(name):
        return "reference/index.html#module-pandas" if name == "pandas" else None

    return entries_for(PANDAS_MODULES, object_uri, member_uri, module_uri)


# --------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------

PROJECTS = {
    # inventory file: (project name, distribution to take the version from,
    #                  function that lists the entries)
    "sklearn": ("scikit-learn", "sklearn", sklearn_entries),
    "numpy": ("NumPy", "numpy", numpy_entries),
    "torch": ("PyTorch", "torch", torch_entries),
    "pandas": ("pandas", "pandas", pandas_entries),
}


def inventory_bytes(project, version, entries):
    """A Sphinx inventory, format version 2, as bytes."""
    header = (
        "# Sphinx inventory version 2\n"
        f"# Project: {project}\n"
        f"# Version: {version}\n"
        "# The remainder of this file is compressed using zlib.\n"
    )
    lines = []
    for name, role, uri in sorted(entries):
        priority = 0 if role == "py:module" else 1
        if uri.endswith("#" + name):
            uri = uri[: -len(name)] + "$"  # the format's shorthand for the name
        lines.append(f"{name} {role} {priority} {uri} -\n")
    body = zlib.compress("".join(lines).encode("utf-8"), 9)
    return header.encode("utf-8") + body


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help=f"some of {', '.join(PROJECTS)}")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    args.output.mkdir(parents=True, exist_ok=True)
    unknown = set(args.names) - set(PROJECTS)
    if unknown:
        parser.error(f"unknown project(s): {', '.join(sorted(unknown))}")
    for key in args.names or PROJECTS:
        project, package, collect = PROJECTS[key]
        version = _import(package).__version__.split("+")[0]
        entries = collect()
        path = args.output / f"{key}.inv"
        path.write_bytes(inventory_bytes(project, version, entries))
        print(f"{path.name}: {project} {version}, {len(entries)} objects")
    return 0


if __name__ == "__main__":
    sys.exit(main())
