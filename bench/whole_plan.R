# The whole plan in R, on the table bench/whole_plan.py generates (issue 13, item 5).
#   Rscript bench/whole_plan.R bench/out/whole_plan_10000.csv out.json
# Each step is timed with system.time (elapsed); the whole process's wall time and peak RSS are
# measured by the caller (/usr/bin/time).  Convergence: coxph's iterations below iter.max,
# glm.nb's `converged` without a theta.ml warning, pscl's `converged`, glm's `converged`.
suppressPackageStartupMessages({
  library(survival); library(MASS); library(pscl); library(sandwich); library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
fits <- list()
step <- function(name, expr, ok = function(v) TRUE) {
  warned <- FALSE
  t <- system.time(v <- withCallingHandlers(expr, warning = function(w) {
    warned <<- TRUE; invokeRestart("muffleWarning") }))[["elapsed"]]
  fits[[length(fits) + 1]] <<- list(fit = name, seconds = t, converged = isTRUE(ok(v)) && !warned)
  v
}
d <- step("read.csv", read.csv(args[1]))
d$practice <- factor(d$practice)
S <- with(d, Surv(rtw_days, rtw))
cox_ok <- function(f) f$iter < 20
step("KM by arm (log-log)", survfit(S ~ arm, data = d, conf.type = "log-log"))
step("log-rank", survdiff(S ~ arm, data = d))
step("log-rank stratified by practice", survdiff(S ~ arm + strata(practice), data = d))
u <- step("Cox unadjusted", coxph(S ~ arm, data = d), cox_ok)
a <- step("Cox adjusted", coxph(S ~ arm + age + sex + prior_days, data = d), cox_ok)
s <- step("Cox stratified by practice", coxph(S ~ arm + age + sex + prior_days + strata(practice), data = d),
          cox_ok)
step("cox.zph unadjusted", cox.zph(u))
step("cox.zph adjusted", cox.zph(a))
step("cox.zph stratified", cox.zph(s))
step("RMST at 182", summary(survfit(S ~ arm, data = d), rmean = 182)$table)
x <- days_absent ~ arm + age + sex + prior_days
step("glm.nb", glm.nb(x, data = d), function(f) f$converged)
step("glm.nb + practice fixed", glm.nb(update(x, . ~ . + practice), data = d), function(f) f$converged)
step("zeroinfl negbin | 1", zeroinfl(days_absent ~ arm + age + sex + prior_days | 1, data = d,
                                    dist = "negbin"), function(f) f$converged)
step("hurdle negbin | 1", hurdle(days_absent ~ arm + age + sex + prior_days | 1, data = d,
                                dist = "negbin"), function(f) f$converged)
step("Poisson + vcovHC HC0", {
  p <- glm(x, data = d, family = poisson); list(p, vcovHC(p, type = "HC0")) }, function(v) v[[1]]$converged)
write_json(list(fits = fits, version = paste(R.version.string, "| survival", packageVersion("survival"),
                                             "| MASS", packageVersion("MASS"), "| pscl", packageVersion("pscl"))),
           args[2], auto_unbox = TRUE, digits = NA)
