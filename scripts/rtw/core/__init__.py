"""Core: what every stage shares: config access (:mod:`.config`), the tidy estimates
contract (:mod:`.estimates`), readers and atomic writers (:mod:`.io`), model frames and
the cluster sandwich (:mod:`.modelframe`), Wald intervals and p-values (:mod:`.stats`),
the model-agnostic arm-by-subgroup engine (:mod:`.subgroups`), the entry-script plumbing
(:mod:`.entry`) and the code-dependency map of the rules (:mod:`.deps`)."""
