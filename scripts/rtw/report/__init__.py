"""Report: presentation of the estimates: number formats (:mod:`.fmt`), the figure
style (:mod:`.style`), figures (:mod:`.figures`), table builders (:mod:`.tables`), the
five table writers (:mod:`.writers`) and table titles and footnotes (:mod:`.text`)."""
