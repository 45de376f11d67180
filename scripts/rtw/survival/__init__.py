"""Survival: engines that take arrays and return small result objects (Kaplan-Meier
:mod:`.km`, log-rank :mod:`.logrank`, Cox :mod:`.cox`, RMST :mod:`.rmst`, competing
risks :mod:`.competing`, interval censoring :mod:`.interval`), the arm-by-subgroup Cox
analysis (:mod:`.subgroups`) and the runner that fits every pre-specified time-to-event
analysis of one outcome from config, one function per analysis over one prepared data
step (:mod:`.runner`)."""
