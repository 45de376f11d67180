"""Data: from raw exports (or a bring-your-own table) to the analysis dataset: cleaning
with data queries (:mod:`.cleaning`), derivations and CONSORT counts (:mod:`.derivation`),
the bring-your-own importer (:mod:`.importer`), blinding (:mod:`.blinding`) and the
synthetic trial generator (:mod:`.generator`)."""
