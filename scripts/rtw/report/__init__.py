"""Report: presentation of the estimates: number formats (:mod:`.fmt`), the figure
style (:mod:`.style`), one module per figure (:mod:`.consort` layout and drawing,
:mod:`.survival_curves`, :mod:`.forest`, :mod:`.schoenfeld`, :mod:`.days_off`,
:mod:`.power_plot`, with :mod:`.figure_common` and :mod:`.measure`), gathered by
:mod:`.figures`; table builders (:mod:`.tables`), the five table writers (:mod:`.writers`),
and which tables and figures a run makes, with their titles (:mod:`.text`)."""
