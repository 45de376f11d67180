"""Models: regression engines (counts :mod:`.counts`, continuous :mod:`.continuous`,
binary :mod:`.binary`, CACE :mod:`.causal`, multiple imputation :mod:`.missing`,
NB subgroups :mod:`.subgroups`, delivery :mod:`.delivery`, descriptive rows
:mod:`.descriptive`) and the runner with one ``run_*`` per analysis group
(:mod:`.runner`)."""
