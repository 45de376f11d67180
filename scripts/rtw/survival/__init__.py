"""Survival: engines that take arrays and return small result objects (Kaplan-Meier
:mod:`.km`, log-rank :mod:`.logrank`, Cox :mod:`.cox`, RMST :mod:`.rmst`, competing
risks :mod:`.competing`, interval censoring :mod:`.interval`) and the runner that fits
every pre-specified time-to-event analysis of one outcome from config (:mod:`.runner`)."""
