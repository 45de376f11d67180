# Figures stage (SPEC §5): filled in by the outputs work (issue 5).
