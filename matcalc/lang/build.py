"""lark parse tree -> typed :class:`Program` over the IR.

Walks statements in order: declarations create variables, definitions create named references,
requests name what to differentiate.  Expressions are built bottom-up through the IR's shape-
checked constructors; an error raised there is given the location of the failing node.
"""

from __future__ import annotations

import math

from lark import Token, Tree

from .. import limits
from ..core import ir
from ..core.constants import is_whole
from ..core.ir import Node
from ..core.labels import integer_valued, labels_attributes
from ..core.program import Definition, Program, Request
from ..core.registry import operation, view
from ..core.shapes import ONE, Dim, Kind, Shape, dim
from ..core.unify import Inference
from ..errors import (
    AssumptionError,
    DeclarationError,
    DomainError,
    LimitError,
    Location,
    MatcalcError,
    ShapeError,
    UnknownNameError,
    did_you_mean,
)
from ..limits import check_time
from . import pending
from .broadcast import refuse_matrix_times_vector
from .calls import CALLS, INFINITY, build_call, refuse_infinity
from .einsum_call import einsum_call, string_outside_einsum
from .exponents import halves_of
from .pending import NEEDS_SIZE, PENDING, PendingIdentity, combine, is_pending, negated
from .syntax import as_written, location_of, number, tree_depth
from .tensors import TENSOR_CALLS, along_axis, tensor_call

MAX_EXPRESSION_DEPTH = 250

# the operations written name(args), by their number of arguments (the registry's syntax view)
_CALLED = {name: syntax.name for name, syntax in view("syntax").items() if not syntax.symbol}
UNARY_FUNCTIONS = frozenset(text for name, text in _CALLED.items()
                            if operation(name).arity == 1)
BINARY_FUNCTIONS = frozenset(text for name, text in _CALLED.items()
                             if operation(name).arity == 2)
# a text name shared by several operations (sum: of all entries, along an axis) reads as the
# operation of that name; the others are built by their own readers
_OPERATION_OF = {text: name for name, text in sorted(_CALLED.items(), key=lambda o: o[0] == o[1])}
CONCATENATIONS = frozenset({"hcat", "vcat"})  # hcat(A, B, C) is hcat(hcat(A, B), C)
AXIS_REDUCTIONS = frozenset({"sum", "mean"})  # sum(X, 1), mean(X, 0): along one axis
DIMENSION_FUNCTIONS = frozenset({"I", "ones", "zeros", "commutation"})
FUNCTIONS = UNARY_FUNCTIONS | BINARY_FUNCTIONS | DIMENSION_FUNCTIONS | TENSOR_CALLS | CALLS | \
    {"einsum"}
RESERVED = FUNCTIONS

ATTRIBUTES = ("symmetric", "spd", "simplex", "positive", "invertible", "pm1", "lower", "upper",
              "mask")
SQUARE_ATTRIBUTES = frozenset({"symmetric", "spd", "invertible", "lower", "upper"})
TRIANGULAR_ATTRIBUTES = frozenset({"lower", "upper"})
# a triangular matrix that is symmetric is diagonal: declare Diag(d) instead
_EXCLUSIVE = {"lower": {"upper", "symmetric", "spd", "simplex", "pm1", "positive"},
              "upper": {"lower", "symmetric", "spd", "simplex", "pm1", "positive"},
              "mask": set(ATTRIBUTES) - {"mask", "symmetric"}}

_BINARY_OPS = {"add", "sub", "mul", "div", "matmul", "frob"}


class Builder:
    """Builds one Program; with an :class:`Inference`, undeclared names get inferred types."""

    def __init__(self, source: str, inference: Inference | None = None):
        self.source = source
        self.inference = inference
        self.variables: dict[str, Node] = {}
        self.definitions: dict[str, Definition] = {}
        self.dimensions: dict[str, Dim] = {}
        self.requests: list[Request] = []
        self.inferred: list[str] = []
        self.unknown_advice = "declare it, e.g. 'x : vector(n)'"
        self.identity_size: Dim | None = None  # of a bare I nothing sizes (answers: verify)
        self.result_shape: Shape | None = None  # of the result an answer is (verify)

    @classmethod
    def over(cls, program: Program, source: str) -> Builder:
        """A builder for more statements over ``program`` (an answer with its own
        definitions): the program's names are known, ``source`` is the new text."""
        builder = cls(source)
        builder.variables = dict(program.variables)
        builder.definitions = dict(program.definitions)
        builder.dimensions = {name: dim(name) for name in program.dimensions}
        builder.unknown_advice = "use the problem's names, or define it first (name = ...)"
        return builder

    def knows(self, name: str) -> bool:
        """Whether ``name`` is a variable, definition or dimension already."""
        return name in self.variables or name in self.definitions or name in self.dimensions

    # -- statements --------------------------------------------------------------------------

    def program(self, tree: Tree) -> Program:
        for statement in tree.children:
            self.statement(statement)
        return self.result()

    def result(self) -> Program:
        return Program(
            source=self.source,
            variables=dict(self.variables),
            definitions=dict(self.definitions),
            requests=list(self.requests),
            dimensions=tuple(self.dimensions),
            inferred=tuple(self.inferred),
        )

    def statement(self, tree: Tree) -> None:
        check_time()
        try:
            getattr(self, f"_{tree.data}")(tree)
        except MatcalcError as error:
            raise error.at(location_of(tree, self.source), self.source) from None

    def _declaration(self, tree: Tree) -> None:
        names_tree, type_tree, *attribute_trees = tree.children
        kind, shape = self._type(type_tree)
        attributes = frozenset(str(a.children[0]) for a in attribute_trees)
        if type_tree.data == "integer_type":  # an integer scalar: a matrix power's exponent
            attributes |= {"integer"}
        if type_tree.data == "labels_type":  # class labels: never differentiated
            attributes |= labels_attributes(self._declared_dim(type_tree.children[-1]))
        for attribute_tree in attribute_trees:
            self._check_attribute(attribute_tree, kind, shape)
            self._check_compatible(attribute_tree, attributes)
        for token in names_tree.children:
            self.declare(str(token), kind, shape, attributes, location_of(token, self.source))

    def declare(self, name: str, kind: Kind, shape: Shape, attributes: frozenset[str],
                location: Location | None = None) -> Node:
        """Add a variable; raises DeclarationError when the name is taken."""
        self.check_new_name(name, "variable", location)
        node = ir.var(name, shape, kind, attributes)
        self.variables[name] = node
        return node

    def check_new_name(self, name: str, what: str, location: Location | None) -> None:
        problem = None
        if name in RESERVED:
            problem = (f"'{name}' is reserved (a function or the identity); "
                       f"rename the {what}")
        elif name in self.variables:
            problem = f"'{name}' is already declared"
        elif name in self.definitions:
            problem = f"'{name}' is already defined"
        elif name in self.dimensions:
            problem = f"'{name}' is a dimension; a {what} needs another name"
        if problem:
            raise DeclarationError(problem, location, self.source)

    def _type(self, tree: Tree) -> tuple[Kind, Shape]:
        dims = [self._declared_dim(child) for child in tree.children]
        if tree.data in ("scalar_type", "integer_type"):
            return Kind.SCALAR, Shape(ONE, ONE)
        if tree.data == "labels_type" and len(dims) == 3:  # labels(B, T, k): a B x T grid
            return Kind.MATRIX, Shape(dims[0], dims[1])
        if tree.data in ("vector_type", "labels_type"):
            return Kind.VECTOR, Shape(dims[0], ONE)
        if tree.data == "tensor_type":  # leading axes, then rows and columns
            return Kind.TENSOR, Shape(dims[-2], dims[-1], tuple(dims[:-2]))
        return Kind.MATRIX, Shape(dims[0], dims[1])

    def _declared_dim(self, tree: Tree | Token) -> Dim:
        """A declared dimension: a name, a positive integer, or their sums, differences and
        products (``m*p``, ``2*dh``, ``n - k + 1``)."""
        if isinstance(tree, Tree) and tree.data in ("dim_add", "dim_sub", "dim_mul"):
            left, right = (self._declared_dim(child) for child in tree.children)
            value = {"dim_add": left + right, "dim_sub": left - right,
                     "dim_mul": left * right}[tree.data]
            if value.is_number and value.coefficient < 1:
                raise ShapeError(f"a dimension must be at least 1, not {value}",
                                 location_of(tree, self.source), self.source)
            return value
        if isinstance(tree, Tree):  # ``dimension`` around its one part
            return self._declared_dim(tree.children[0])
        token = tree
        location = location_of(token, self.source)
        if token.type == "INT":
            if int(token) < 1:
                raise ShapeError(f"a dimension must be at least 1, not {token}", location,
                                 self.source)
            return dim(int(token))
        name = str(token)
        if name in self.variables or name in self.definitions:
            raise DeclarationError(f"'{name}' is a variable; it cannot also be a dimension",
                                   location, self.source)
        return self.dimensions.setdefault(name, dim(name))

    def _check_attribute(self, tree: Tree, kind: Kind, shape: Shape) -> None:
        token = tree.children[0]
        name = str(token)
        location = location_of(token, self.source)
        if name not in ATTRIBUTES:
            raise AssumptionError(
                f"unknown attribute '{name}'{did_you_mean(name, ATTRIBUTES)}; "
                f"attributes are {', '.join(ATTRIBUTES)}", location, self.source)
        if name in SQUARE_ATTRIBUTES and (kind is not Kind.MATRIX or not shape.is_square):
            raise AssumptionError(f"'{name}' needs a square matrix, declared as matrix(n, n)",
                                  location, self.source)
        if name == "simplex" and kind is Kind.SCALAR:
            raise AssumptionError("'simplex' applies to a vector or a matrix (each row)",
                                  location, self.source)

    def _check_compatible(self, tree: Tree, attributes: frozenset[str]) -> None:
        token = tree.children[0]
        clash = sorted(_EXCLUSIVE.get(str(token), set()) & attributes)
        if clash:
            why = "a mask's entries are 0 and 1" if str(token) == "mask" else "a triangular " \
                "matrix has zeros on one side of its diagonal (one that is also symmetric is " \
                "diagonal: write Diag(d))"
            raise AssumptionError(f"'{token}' cannot be combined with '{clash[0]}': {why}",
                                  location_of(token, self.source), self.source)

    def _definition(self, tree: Tree) -> None:
        token, body_tree = tree.children
        name = str(token)
        self.check_new_name(name, "definition", location_of(token, self.source))
        self.define(name, self.expression(body_tree), location_of(tree, self.source))

    def define(self, name: str, body: Node, location: Location | None = None) -> Definition:
        """Add ``name = body``."""
        definition = Definition(name, body, ir.ref(name, body), location)
        self.definitions[name] = definition
        return definition

    def _request(self, tree: Tree) -> None:
        kind_tree, of_tree, names_tree = tree.children
        kind = str(kind_tree.children[0])
        of = self.expression(of_tree)
        wrt = tuple(str(token) for token in names_tree.children)
        for token in names_tree.children:
            name = str(token)
            if name not in self.variables and name not in self.definitions:
                known = list(self.variables) + list(self.definitions)
                raise UnknownNameError(f"cannot differentiate with respect to unknown name "
                                       f"'{name}'{did_you_mean(name, known)}",
                                       location_of(token, self.source), self.source)
        if len(set(wrt)) != len(wrt):
            raise DeclarationError("a name is repeated after 'wrt'",
                                   location_of(names_tree, self.source), self.source)
        if kind in ("grad", "hessian") and not of.is_scalar:
            raise ShapeError(f"{kind} needs a scalar function, but {of} is {of.shape}; "
                             "use jacobian for a vector or matrix function",
                             location_of(of_tree, self.source), self.source)
        for earlier in self.requests:  # derived and checked again for nothing, at any count
            if (earlier.kind, earlier.of, set(earlier.wrt)) == (kind, of, set(wrt)):
                raise DeclarationError(f"this request repeats the one on line "
                                       f"{earlier.location.line if earlier.location else 1}",
                                       location_of(tree, self.source), self.source)
        self.requests.append(Request(kind, of, wrt, location_of(tree, self.source)))

    # -- expressions -------------------------------------------------------------------------

    def expression(self, tree: Tree | Token) -> Node:
        """Build the node of an expression tree (a bare I is an error here)."""
        if isinstance(tree, Tree) and tree_depth(tree) > MAX_EXPRESSION_DEPTH:
            raise LimitError(
                f"an expression nested more than {MAX_EXPRESSION_DEPTH} operations deep; "
                "split it into definitions (matcalc.lang.build.MAX_EXPRESSION_DEPTH)",
                location_of(tree, self.source), self.source)
        return self._sized(self._expr(tree), tree)

    def _sized(self, value: Node | PendingIdentity, tree: Tree | Token) -> Node:
        if is_pending(value) and (self.identity_size is None or value.needs != NEEDS_SIZE):
            raise ShapeError(value.needs, location_of(tree, self.source), self.source)
        return value.build(self.identity_size) if is_pending(value) else value

    def _expr(self, tree: Tree | Token) -> Node | PendingIdentity:
        if isinstance(tree, Token):  # pragma: no cover - the grammar wraps every token
            raise AssertionError(f"unexpected token {tree!r}")
        try:
            if tree.data in _BINARY_OPS:
                return self._binary(tree.data, tree)
            return getattr(self, f"_e_{tree.data}")(tree)
        except MatcalcError as error:
            raise error.at(location_of(tree, self.source), self.source) from None

    def _e_expression(self, tree: Tree) -> Node | PendingIdentity:
        return self._expr(tree.children[0])

    def _e_number(self, tree: Tree) -> Node:
        return ir.const(number(str(tree.children[0])))

    def _e_name(self, tree: Tree) -> Node | PendingIdentity:
        token = tree.children[0]
        name = str(token)
        if name in self.variables:
            return self.variables[name]
        if name in self.definitions:
            return self.definitions[name].ref
        if name in self.dimensions:
            return ir.dimval(self.dimensions[name])
        if name == "I":
            return PENDING
        if name == INFINITY:
            raise refuse_infinity()
        if name in FUNCTIONS:
            raise UnknownNameError(f"'{name}' is a function; call it as {name}(...)")
        if name == "pi":  # the constant, where no declaration takes the name
            return ir.const(math.pi)
        if self.inference is not None:
            return self._infer_variable(name)
        known = list(self.variables) + list(self.definitions) + list(self.dimensions)
        error = UnknownNameError(f"unknown name '{name}'{did_you_mean(name, known)}; "
                                 f"{self.unknown_advice}")
        error.name = name  # the name itself, for a reader that explains it further
        raise error

    def _infer_variable(self, name: str) -> Node:
        """A variable typed by convention: upper-case first letter a matrix, else a vector."""
        assert self.inference is not None
        rows = self.inference.fresh()
        if name[0].isupper():
            node = self.declare(name, Kind.MATRIX, Shape(rows, self.inference.fresh()), frozenset())
        else:
            node = self.declare(name, Kind.VECTOR, Shape(rows, ONE), frozenset())
        self.inferred.append(name)
        return node

    _e_string = string_outside_einsum  # a string is einsum's spec only

    def _e_neg(self, tree: Tree) -> Node:
        (child,) = tree.children
        if child.data == "number":
            return ir.const(-number(str(child.children[0])))
        return negated(self._expr(child))

    def _e_transpose(self, tree: Tree) -> Node:
        (child,) = tree.children
        return ir.apply("transpose", self._sized(self._expr(child), child))

    def _binary(self, op: str, tree: Tree) -> Node | PendingIdentity:
        left, right = self.spread(op, *self.operands(tree))
        if op == "mul" and self.inference is not None:
            refuse_matrix_times_vector(left, right)
        if op == "div" and not is_pending(right) and right.op == "const" and \
                right.params[0] == 0:
            raise DomainError("division by zero")
        try:
            return combine(op, left, right)
        except MatcalcError as error:  # quoting each operand as the user wrote it
            operands = zip((left, right), tree.children, strict=True)
            raise as_written(error, operands, self.source) from None

    def spread(self, op: str, *operands: Node | PendingIdentity) -> tuple:
        """The operands as this reader spreads them: as written (LaTeX's: latex_answers)."""
        return operands

    def operands(self, tree: Tree) -> tuple[Node | PendingIdentity, Node | PendingIdentity]:
        """The two operands of a binary tree, each a node or a bare I (lang/pending.py), which
        :func:`combine` sizes from the other one."""
        left_tree, right_tree = tree.children
        return self._expr(left_tree), self._expr(right_tree)

    def _e_epow(self, tree: Tree) -> Node:
        base_tree, exponent_tree = tree.children
        base = self.expression(base_tree)
        return ir.apply("pow", base, self.expression(exponent_tree))

    def _e_pow(self, tree: Tree) -> Node:
        return self.power(self.expression(tree.children[0]), tree.children[1])

    def power(self, base: Node, exponent_tree: Tree) -> Node:
        """``base ^ exponent``: of a scalar, or the matrix power of a square matrix."""
        if exponent_tree.data == "name" and str(exponent_tree.children[0]) == "T":
            # X^T is the transpose, also beside a matrix T; a scalar T would be refused, not guessed
            declared = self.variables.get("T") or getattr(self.definitions.get("T"), "ref", None)
            if declared is not None and declared.is_scalar:
                raise ShapeError(f"{base} ^ T: T is a scalar here, so ^T could be the power or "
                                 f"the transpose; write {base}' for the transpose, or rename T")
            return ir.apply("transpose", base)
        exponent = self.expression(exponent_tree)
        if base.is_scalar:
            return ir.apply("pow", base, exponent)
        if base.kind is not Kind.MATRIX or not base.shape.is_square:
            raise ShapeError(f"^ is the power of a scalar or a square matrix, but {base} is "
                             f"{base.shape}; use .^ for an elementwise power")
        if exponent.op != "const" and integer_valued(exponent):
            return ir.apply("mpowk", base, exponent)  # X ^ k for k : integer
        halves = halves_of(exponent)
        if halves is not None and halves % 2:  # S ^ (1/2), S^{-1/2}: powers of the square root
            base, exponent = ir.apply("sqrtm", base), ir.const(halves)
        if exponent.op != "const" or not is_whole(exponent.params[0]):
            raise ShapeError(f"the power of a matrix needs an integer exponent, not {exponent}; "
                             "declare it 'k : integer', or use .^ for an elementwise power")
        k = int(exponent.params[0])
        if abs(k) > limits.MAX_MATRIX_POWER:
            raise LimitError(f"the matrix power {base} ^ {k}: powers beyond "
                             f"{limits.MAX_MATRIX_POWER} are refused (their derivative has a term "
                             "for each factor; matcalc.limits.MAX_MATRIX_POWER sets the limit)")
        if k == 0:
            return ir.identity(base.shape.rows)
        if k < 0:
            base, k = ir.apply("inv", base), -k
        return base if k == 1 else ir.matpow(base, k)

    def _e_call(self, tree: Tree) -> Node | PendingIdentity:
        name_token, *argument_trees = tree.children
        name = str(name_token)
        if name in DIMENSION_FUNCTIONS:
            return self._dimension_call(name, argument_trees)
        if name in CALLS:
            return build_call(self, name, argument_trees)
        if name in TENSOR_CALLS:
            return tensor_call(name, argument_trees, self.expression, self._dimension_argument)
        if name == "einsum":
            return einsum_call(self, argument_trees)
        if name == "unvec":
            if len(argument_trees) != 3:
                raise ShapeError(f"unvec takes a vector and two dimensions, not "
                                 f"{len(argument_trees)} arguments")
            rows, cols = (self._dimension_argument(tree) for tree in argument_trees[1:])
            return ir.apply("unvec", self.expression(argument_trees[0]), params=(rows, cols))
        if name not in FUNCTIONS:
            if name in self.variables or name in self.definitions:
                raise UnknownNameError(f"'{name}' is not a function; write {name} @ (...) "
                                       "for a product")
            raise UnknownNameError(f"unknown function '{name}'{did_you_mean(name, FUNCTIONS)}")
        if name in AXIS_REDUCTIONS and len(argument_trees) == 2:
            return along_axis(name, self.expression(argument_trees[0]), argument_trees[1],
                              location_of(argument_trees[1], self.source), self.source)
        if name in CONCATENATIONS and len(argument_trees) > 2:
            parts = [self.expression(argument) for argument in argument_trees]
            joined = parts[0]
            for part in parts[1:]:
                joined = ir.apply(name, joined, part)
            return joined
        arity = 2 if name in BINARY_FUNCTIONS else 1
        if len(argument_trees) != arity:
            plural = "s" if arity > 1 else ""
            counts = "1 or 2 arguments (X, or X and an axis)" if name in AXIS_REDUCTIONS else \
                f"{arity} argument{plural}"
            raise ShapeError(f"{name} takes {counts}, not {len(argument_trees)}")
        if name == "kron":  # I \otimes A: the size of I is what the result leaves
            return ir.apply("kron", *pending.kron_operands(*map(self._expr, argument_trees),
                                                           self.result_shape))
        arguments = [self.expression(argument) for argument in argument_trees]
        if name == "tr" and arguments[0].op == "mpowk":  # tr(X ^ k): one entry, one rule
            return ir.apply("trpowk", *arguments[0].args)
        if name == "diag" and arguments[0].kind is not Kind.MATRIX:
            name = "Diag"  # as in numpy, diag of a vector is the diagonal matrix
        return ir.apply(_OPERATION_OF.get(name, name), *arguments)

    def _dimension_call(self, name: str, argument_trees: list[Tree]) -> Node | PendingIdentity:
        dims = [self._dimension_argument(tree) for tree in argument_trees]
        counts = {"I": (0, 1), "ones": (1, 4), "zeros": (1, 4), "commutation": (2, 2)}[name]
        if not counts[0] <= len(dims) <= counts[1]:
            wanted = " or ".join(str(c) for c in sorted(set(counts)))
            raise ShapeError(f"{name} takes {wanted} dimension arguments, not {len(dims)}")
        if name == "I":
            return ir.identity(dims[0]) if dims else PENDING
        if name == "commutation":
            return ir.commutation(*dims)
        build = ir.ones if name == "ones" else ir.zeros
        if len(dims) == 1:
            return build(dims[0], ONE, Kind.VECTOR)
        return build(dims[-2], dims[-1], Kind.TENSOR if len(dims) > 2 else Kind.MATRIX,
                     tuple(dims[:-2]))  # ones(B, T, d): a tensor

    def _dimension_argument(self, tree: Tree) -> Dim:
        """A dimension written as a function argument: ``n``, ``3``, ``m*n``, ``n - k + 1``."""
        if tree.data in ("mul", "add", "sub"):
            left, right = (self._dimension_argument(child) for child in tree.children)
            value = {"mul": left * right, "add": left + right, "sub": left - right}[tree.data]
            if value.is_number and value.coefficient < 1:
                raise ShapeError(f"a dimension must be at least 1, not {value}",
                                 location_of(tree, self.source), self.source)
            return value
        where = location_of(tree, self.source)
        if tree.data == "number":
            text = str(tree.children[0])
            if not text.isdigit() or int(text) < 1:
                raise ShapeError(f"a dimension must be a positive integer, not {text}", where,
                                 self.source)
            return dim(int(text))
        if tree.data == "name":
            name = str(tree.children[0])
            if name in self.dimensions:
                return self.dimensions[name]
            if self.inference is not None and name not in self.variables:
                return self.dimensions.setdefault(name, dim(name))
            raise UnknownNameError(
                f"unknown dimension '{name}'{did_you_mean(name, self.dimensions)}", where,
                self.source)
        raise ShapeError("a dimension argument is a name, an integer, or their sums and products",
                         where, self.source)
