"""The simplification rules in the order they are tried (the first that fires wins).

The rules themselves, each with its identity as its docstring, are in
:mod:`matcalc.rules.rewrites_scalar`, :mod:`matcalc.rules.rewrites_matrix`,
:mod:`matcalc.rules.rewrites_masks` and :mod:`matcalc.rules.rewrites_kron`.
"""

from __future__ import annotations

from . import (  # noqa: F401 - they register their rules
    rewrites_axes,
    rewrites_elementwise,
    rewrites_kron,
    rewrites_masks,
    rewrites_matrix,
    rewrites_scalar,
    rewrites_tensors,
)
from .rewrite import REWRITES, Rule

PRIORITY: tuple[str, ...] = (
    'absorbed-negation',
    'negative-multiple',
    'constant-arithmetic',
    'times-one',
    'ones-as-one',
    'size-of-ones',
    'scale-out-of-sum',
    'times-zero',
    'plus-zero',
    'divided-by-one',
    'inverse-of-inverse',
    'inverse-cancels',
    'powers-join',
    'identity-product',
    'power-one',
    'add-negative',
    'negation-out-of-products',
    'sum-of-centred',
    'column-sums-of-centred',
    'row-sums-of-centred',
    'spread-mean',
    'scale-out-of-axis-sums',
    'spread-through-entries',
    'expand-out',
    'mean-of-entries',
    'kron-mixed-product',
    'kron-chain',
    'kron-times-vec',
    'block-product',
    'kron-hadamard',
    'kron-of-scalar',
    'transpose-of-transpose',
    'concatenation-transpose',
    'transpose-of-symmetric',
    'transpose-of-product',
    'transpose-out-of-sum',
    'times-reciprocal',
    'cancel-quotient',
    'cancel-norm',
    'cancel-in-scalar-product',
    'scalar-division-out',
    'constants-together',
    'scalar-out-of-product',
    'quotient-out-of-product',
    'diag-times-vector',
    'inner-product-with-ones',
    'diag-product',
    'diag-sum',
    'diag-of-ones',
    'triangle-of-triangle',
    'number-out-of-triangle',
    'zero-behind-its-mask',
    'diagonal-of-diag',
    'diag-of-scalar',
    'identity-hadamard',
    'inner-product-with-quotient',
    'sum-of-simplex',
    'row-sums-of-simplex',
    'square-of-pm1',
    'logistic-quotient',
    'sigmoid-complement',
    'exp-times-logistic',
    'step-of-zero',
    'like-terms',
    'repeated-factor',
    'power-of-power',
    'negative-power-as-quotient',
    'collected-multiples',
    'reciprocal-constant',
    'identity-frobenius',
    'common-divisor',
    'common-factor',
)

RULES: tuple[Rule, ...] = tuple(REWRITES[name] for name in PRIORITY)

if set(PRIORITY) != set(REWRITES):  # pragma: no cover - a rule registered but never tried
    raise RuntimeError(f"rules outside the priority list: {set(REWRITES) ^ set(PRIORITY)}")
