"""Random test points that honour a problem's declarations, under the name the docs use
(``matcalc.sampling.random_instance``): see :mod:`matcalc.numeric.sampling`."""

from .numeric.sampling import Instance, random_instance

__all__ = ["Instance", "random_instance"]
