"""The public method API and the benchmark's own methods.

`suite.methods.base` is the API a method is written against (Method, its lifecycle hooks, Prepared,
EvalPoint, the `METHODS` registry), with its parameters declared as in suite.fields (`MethodParams`,
`setting`); `masks` holds the pruning helpers the baselines and plugins share, `labels` and `style` how
reports show a method. Beside them: the dense reference (`dense`), DWF (`dwf`) and spred (`spred`). The
comparison methods live in the top-level `baselines/` package; `suite.builtins` registers every built-in.
"""
