"""The operations of the language, each defined once with every facet (core/registry.py).

The registry imports every module of this package the first time a stage asks for an
operation; a module defines one operation or a small family of them.
"""
