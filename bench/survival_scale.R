# The survival analyses of the whole plan in R (issue 13, item 3), on the table bench/survival_scale.py
# generates:  Rscript bench/survival_scale.R table.csv out.json
# The same calls as the survival part of bench/whole_plan.R (KM, log-rank plain and stratified, Cox
# unadjusted/adjusted/stratified, cox.zph of each, RMST); each step timed with system.time (elapsed),
# the process's wall time, CPU time and peak RSS measured by the caller (/usr/bin/time).
suppressPackageStartupMessages({ library(survival); library(jsonlite) })
args <- commandArgs(trailingOnly = TRUE)
fits <- list()
step <- function(name, expr) {
  t <- system.time(v <- expr)[["elapsed"]]
  fits[[length(fits) + 1]] <<- list(fit = name, seconds = t)
  v
}
d <- step("read.csv", read.csv(args[1]))
d$practice <- factor(d$practice)
S <- with(d, Surv(rtw_days, rtw))
step("KM by arm (log-log)", survfit(S ~ arm, data = d, conf.type = "log-log"))
step("log-rank", survdiff(S ~ arm, data = d))
step("log-rank stratified by practice", survdiff(S ~ arm + strata(practice), data = d))
u <- step("Cox unadjusted", coxph(S ~ arm, data = d))
a <- step("Cox adjusted", coxph(S ~ arm + age + sex + prior_days, data = d))
s <- step("Cox stratified by practice", coxph(S ~ arm + age + sex + prior_days + strata(practice), data = d))
step("cox.zph unadjusted", cox.zph(u))
step("cox.zph adjusted", cox.zph(a))
step("cox.zph stratified", cox.zph(s))
step("RMST at 182", summary(survfit(S ~ arm, data = d), rmean = 182)$table)
write_json(list(fits = fits, version = paste(R.version.string, "| survival", packageVersion("survival"))),
           args[2], auto_unbox = TRUE, digits = NA)
