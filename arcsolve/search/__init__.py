"""Program search: a DSL of grid transforms enumerated on CPU workers (no torch anywhere on its path).

`ops` holds the vocabulary's types (a step `Op`, the `TaskView` the search may see, `Fitter`),
`grid` small shared grid helpers, the family modules (`geometry`, `colours`, `objects`, ...) the
primitives, `engine` the enumeration with output-equivalence pruning, `run` the worker pool and the
`arcsolve search` command's work.
"""
